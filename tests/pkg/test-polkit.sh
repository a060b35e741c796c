# The polkit rule (polkit/50-vmsilo.rules, as installed) run by Duktape, the JavaScript engine
# of Debian's polkitd, against polkit's rule API: a member of group vmsilo-NAME may start, stop
# and restart vmsilo@NAME.service and start and stop vmsilo-run@NAME.socket; nothing else is
# granted (other VMs, other users, other verbs, other units, other actions).
. "$(dirname "$0")/lib.sh"

command -v duk >/dev/null || fail "duk not installed (scripts/install-deps.sh: duktape)"
stage_install
RULES="$ROOT/usr/share/polkit-1/rules.d/50-vmsilo.rules"
[ -f "$RULES" ] || fail "rule not installed at $RULES"

cat >"$T/polkit.js" <<'EOS'
var rules = [];
var polkit = {
        Result: { NO: "no", YES: "yes", AUTH_SELF: "auth_self", AUTH_SELF_KEEP: "auth_self_keep",
                  AUTH_ADMIN: "auth_admin", AUTH_ADMIN_KEEP: "auth_admin_keep", NOT_HANDLED: null },
        addRule: function(f) { rules.push(f); },
        log: function(s) { print("log: " + s); }
};
EOS
cat >"$T/cases.js" <<'EOS'
function decide(user, groups, id, unit, verb) {
        var action = { id: id, lookup: function(k) { return k == "unit" ? unit : k == "verb" ? verb : undefined; } };
        var subject = { user: user, local: true, active: true,
                        isInGroup: function(g) { return groups.indexOf(g) >= 0; },
                        isInNetGroup: function(g) { return false; } };
        for (var i = 0; i < rules.length; i++) {
                var r = rules[i](action, subject);
                if (r !== undefined && r !== null)
                        return r;
        }
        return "not-handled";
}
var M = "org.freedesktop.systemd1.manage-units";
var cases = [
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service", "start", "yes"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service", "stop", "yes"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service", "restart", "yes"],
        ["alice", ["vmsilo-work"], M, "vmsilo-run@work.socket", "start", "yes"],
        ["alice", ["vmsilo-work"], M, "vmsilo-run@work.socket", "stop", "yes"],
        ["alice", ["users", "vmsilo-work", "vmsilo-web"], M, "vmsilo@web.service", "start", "yes"],
        ["alice", ["vmsilo-work"], M, "vmsilo@banking.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work-2.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@wor.service", "start", "not-handled"],
        ["alice", ["vmsilo-wor"], M, "vmsilo@work.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service", "enable", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service", "reload", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo-run@work.socket", "restart", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo-run@work.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.socket", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "sshd.service", "stop", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "xvmsilo@work.service", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, "vmsilo@work.service.bak", "start", "not-handled"],
        ["alice", ["vmsilo-work"], M, undefined, "start", "not-handled"],
        ["alice", ["vmsilo-work"], "org.freedesktop.systemd1.manage-unit-files", "vmsilo@work.service", "enable", "not-handled"],
        ["alice", ["vmsilo-work"], "org.freedesktop.login1.reboot", undefined, undefined, "not-handled"],
        ["bob", ["users"], M, "vmsilo@work.service", "start", "not-handled"],
        ["bob", [], M, "vmsilo-run@work.socket", "start", "not-handled"]
];
var bad = 0;
for (var i = 0; i < cases.length; i++) {
        var c = cases[i], got = decide(c[0], c[1], c[2], c[3], c[4]);
        if (got !== c[5]) {
                print("FAIL: " + c[0] + " " + JSON.stringify(c[1]) + " " + c[2] + " " + c[3] + " " + c[4] + ": " + got + ", expected " + c[5]);
                bad++;
        }
}
print(rules.length + " rule(s), " + cases.length + " cases, " + bad + " failed");
EOS
duk "$T/polkit.js" "$RULES" "$T/cases.js" >"$T/duk.out" 2>&1 || { cat "$T/duk.out" >&2; fail "duk failed"; }
grep -qx '1 rule(s), 24 cases, 0 failed' "$T/duk.out" || { cat "$T/duk.out" >&2; fail "polkit rule decisions"; }
