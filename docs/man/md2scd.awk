# Converts the project's Markdown reference pages (docs/vmsilo.conf.md, plugins/*/NAME.md)
# to scdoc(5), so that vmsilo.conf(5) is generated from the same text as the Markdown and
# cannot fall behind it. Handles what those pages use: headings, paragraphs, `-` and `1.`
# lists with two-space continuations, fenced code, tables (rendered as a term per row),
# `code`, **bold** and [links](...). Portable awk (mawk, gawk, busybox).
#
# Variables: h1, h2, h3 = the scdoc prefix for Markdown heading levels 1-3 ("#", "##"), or
# "drop" to leave the heading out.

function esc(s) {
        gsub(/\\/, "\\\\", s)
        gsub(/\*/, "\\*", s)
        gsub(/_/, "\\_", s)
        return s
}

# inline Markdown to scdoc; a `code span` may continue on the next line (incode)
function inline(s,    out, i, c, j, rest, k, close_b, text) {
        out = ""
        i = 1
        if (incode) {
                j = index(s, "`")
                if (j == 0)
                        return esc(s)
                out = esc(substr(s, 1, j - 1)) "*"
                incode = 0
                i = j + 1
        }
        while (i <= length(s)) {
                c = substr(s, i, 1)
                if (c == "`") {
                        rest = substr(s, i + 1)
                        j = index(rest, "`")
                        if (j > 0) {
                                out = out "*" esc(substr(rest, 1, j - 1)) "*"
                                i += j + 1
                                continue
                        }
                        incode = 1
                        return out "*" esc(rest)
                }
                if (c == "*" && substr(s, i + 1, 1) == "*") {
                        out = out "*"
                        i += 2
                        continue
                }
                # *emphasis*: opens after a blank or '(' before a letter or digit, closes
                # after one (so globs such as conf.d/*.conf stay literal)
                if (c == "*" && (i == 1 || substr(s, i - 1, 1) ~ /[ (]/) &&
                    substr(s, i + 1, 1) ~ /[A-Za-z0-9]/) {
                        rest = substr(s, i + 1)
                        j = index(rest, "*")
                        if (j > 1 && substr(rest, j - 1, 1) ~ /[A-Za-z0-9]/ &&
                            substr(rest, j + 1, 1) !~ /[A-Za-z0-9]/) {
                                out = out "_" esc(substr(rest, 1, j - 1)) "_"
                                i += j + 1
                                continue
                        }
                }
                if (c == "\\" && i < length(s)) {
                        out = out esc(substr(s, i + 1, 1))
                        i += 2
                        continue
                }
                if (c == "[") {
                        rest = substr(s, i + 1)
                        close_b = index(rest, "](")
                        if (close_b > 0 && index(substr(rest, 1, close_b), "`") == 0) {
                                text = substr(rest, 1, close_b - 1)
                                k = index(substr(rest, close_b + 2), ")")
                                if (k > 0) {
                                        out = out inline(text)
                                        i += close_b + 2 + k
                                        continue
                                }
                        }
                }
                out = out esc(c)
                i++
        }
        return out
}

# a line of text must not start like scdoc syntax
function guard(s) {
        if (s ~ /^[|:\[.;#]/ || s ~ /^- / || s ~ /^\t/)
                return "\\" s
        return s
}

# splits a table row at | outside `code` (and not \|) into cells[1..n]; returns n
function split_row(line, cells,    n, i, c, cur, incode) {
        sub(/^[ \t]*\|/, "", line)
        sub(/\|[ \t]*$/, "", line)
        n = 0
        cur = ""
        incode = 0
        for (i = 1; i <= length(line); i++) {
                c = substr(line, i, 1)
                if (c == "\\" && substr(line, i + 1, 1) == "|") {
                        cur = cur "\\|"
                        i++
                        continue
                }
                if (c == "`")
                        incode = !incode
                if (c == "|" && !incode) {
                        cells[++n] = trim(cur)
                        cur = ""
                        continue
                }
                cur = cur c
        }
        cells[++n] = trim(cur)
        return n
}

function trim(s) {
        sub(/^[ \t]+/, "", s)
        sub(/[ \t]+$/, "", s)
        return s
}

# a table as one entry per row: the first cell as the term, the middle cells labelled with
# their header in parentheses, the last cell as the text
function flush_table(    r, n, i, cells, hdr, nh, body, labels) {
        if (nrows == 0)
                return
        nh = split_row(rows[1], hdr)
        for (r = 3; r <= nrows; r++) {
                n = split_row(rows[r], cells)
                print guard(inline(cells[1]))
                labels = ""
                for (i = 2; i < n; i++)
                        if (cells[i] != "")
                                labels = labels (labels == "" ? "" : "; ") inline(hdr[i]) ": " inline(cells[i])
                body = n > 1 ? inline(cells[n]) : ""
                if (labels != "")
                        body = "(" labels ")" (body == "" ? "" : " " body)
                if (body != "")
                        print "\t" body
                print ""
        }
        nrows = 0
}

BEGIN {
        nrows = 0
        infence = 0
        inlist = 0
}

infence {
        if ($0 ~ /^[ \t]*```/) {
                print "```"
                infence = 0
                next
        }
        line = $0
        gsub(/\\/, "\\\\", line)
        print line
        next
}

/^[ \t]*\|/ {
        rows[++nrows] = $0
        next
}

{
        flush_table()
}

/^[ \t]*```/ {
        print "```"
        infence = 1
        next
}

/^#+ / {
        level = index($0, " ") - 1
        text = substr($0, level + 2)
        prefix = level == 1 ? h1 : level == 2 ? h2 : h3
        if (prefix == "drop")
                next
        gsub(/`|\*\*/, "", text) # scdoc headings are plain text
        print prefix " " text
        print ""
        inlist = 0
        next
}

/^[ \t]*$/ {
        incode = 0
        print ""
        inlist = 0
        next
}

/^- / {
        print "- " inline(substr($0, 3))
        inlist = 1
        next
}

/^[0-9]+\. / {
        print ". " inline(substr($0, index($0, " ") + 1))
        inlist = 1
        next
}

/^  +[^ ]/ && inlist {
        print "  " inline(trim($0))
        next
}

{
        print guard(inline(trim($0)))
}

END {
        flush_table()
}
