package diag

import (
	"fmt"
	"strings"
	"time"
)

// markdownEscaper backslash-escapes the characters that start markdown
// markup (emphasis, code, links, raw HTML, entities, strikethrough) or end
// a table cell. CommonMark treats a backslash before any ASCII punctuation
// as the literal character, so the text renders exactly as given.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", `\&`, "#", `\#`,
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
	// A zero-width space after @ keeps "@org/team" from notifying anyone.
	"@", "@&#8203;",
)

// htmlEscaper is html.EscapeString with the same guard against mentions
// and with line breaks kept on one line.
var htmlEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;",
	"@", "@&#8203;", "\r\n", " ", "\n", " ", "\r", " ",
)

// EscapeHTML returns s as literal text inside an HTML element of a summary
// or comment (<summary>, <code>): markup characters become entities, line
// breaks spaces, and @mentions are defused as in EscapeMarkdown.
func EscapeHTML(s string) string { return htmlEscaper.Replace(s) }

// MarkdownFence returns text as a fenced code block with the info string
// (say "text" or ""). The fence is longer than any run of backticks
// in text, so the text cannot end the block early.
func MarkdownFence(info, text string) string {
	fence := strings.Repeat("`", max(3, longestBacktickRun(text)+1))
	text = strings.TrimRight(text, "\n")
	if text != "" {
		text += "\n"
	}
	return fence + info + "\n" + text + fence + "\n"
}

// EscapeMarkdown returns s as literal markdown text, safe in a paragraph, a
// heading or a table cell: `__init__.py` stays "__init__.py" instead of a
// bold "init", and a message cannot open a link, raw HTML or a new cell.
// Line breaks become <br> and a zero-width space follows every @, so a
// name cannot notify people. Every renderer of summaries, pull-request
// comments and reports escapes untrusted text with it (or MarkdownCode).
func EscapeMarkdown(s string) string {
	return markdownEscaper.Replace(s)
}

// MarkdownCode returns s as a markdown code span, for file names, job keys
// and other identifiers. The delimiter is one backtick longer than any run
// of backticks in s, line breaks become spaces and pipes are escaped so the
// span also works inside a table cell (GitHub unescapes \| there). An empty
// s gives "".
func MarkdownCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestBacktickRun(s)+1)
	// A span that starts or ends with a backtick needs a space between it
	// and the delimiter; CommonMark strips one space on each side.
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + strings.ReplaceAll(s, "|", `\|`) + fence
}

// longestBacktickRun is the length of the longest run of backticks in s:
// a code span or fence one longer cannot be closed by the text inside it.
func longestBacktickRun(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// FormatDuration writes a duration the way every brickci report does:
// milliseconds below a second (212ms), seconds with one decimal below a
// minute (4.2s), then minutes and zero-padded seconds (3m05s) and hours and
// minutes (1h02m).
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
	case d < time.Minute-50*time.Millisecond:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour-500*time.Millisecond:
		s := int(d.Round(time.Second).Seconds())
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		m := int(d.Round(time.Minute).Minutes())
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
}

// DidYouMean returns `; did you mean "x"?` naming the candidate closest to
// bad, or "" when none is within a small edit distance (two edits, three
// for names longer than eight characters). Case is ignored.
func DidYouMean(bad string, candidates []string) string {
	if best, ok := Closest(bad, candidates); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// Closest returns the candidate closest to bad by edit distance, ignoring
// case, and whether it is close enough to suggest.
func Closest(bad string, candidates []string) (string, bool) {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(bad), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(bad) > 8 {
		limit = 3
	}
	return best, best != "" && bestD <= limit
}

// editDistance is the Levenshtein distance between a and b, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
