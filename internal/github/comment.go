package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v75/github"
)

// MaxBodyLength is GitHub's limit for a comment or pull-request body
// ("body is too long (maximum is 65536 characters)"). Bodies are capped at
// this many bytes, which is within the limit however GitHub counts
// characters.
const MaxBodyLength = 65536

// truncationNote ends a body that was cut to MaxBodyLength.
const truncationNote = "\n\n> **Note:** this text was truncated to stay under GitHub's 65,536-character limit; the full result is in the workflow run's step summary and log.\n"

// permComment is what commenting on a pull request needs.
const permComment = "pull-requests: write"

var checkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Marker returns the hidden HTML comment that identifies the living comment
// of a check, `<!-- brickci:<check> -->`. It is the first line of every
// comment brickci writes.
func Marker(check string) string { return "<!-- brickci:" + check + " -->" }

func validCheck(check string) error {
	if !checkName.MatchString(check) {
		return fmt.Errorf("invalid check name %q: use letters, digits, '.', '_' or '-'", check)
	}
	return nil
}

// hasMarker reports whether a comment body belongs to the check: its first
// line is exactly the marker. Matching only the first line keeps a reply
// that quotes brickci's comment from being taken for it.
func hasMarker(body, marker string) bool {
	first, _, _ := strings.Cut(body, "\n")
	return strings.TrimSpace(first) == marker
}

// withMarker puts the marker on the first line of body (once) and caps the
// result, so the marker survives truncation.
func withMarker(body, marker string) string {
	if hasMarker(body, marker) {
		_, body, _ = strings.Cut(body, "\n")
	}
	return CapBody(marker + "\n" + body)
}

// CapBody cuts body to MaxBodyLength bytes at a line boundary, closes a
// code fence or <details> block the cut left open, and appends a note
// saying it was truncated. Bodies within the limit are returned unchanged.
func CapBody(body string) string {
	if len(body) <= MaxBodyLength {
		return body
	}
	const closers = "\n```\n</details>\n"
	cut := body[:MaxBodyLength-len(truncationNote)-len(closers)]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	if strings.Count(cut, "<details") > strings.Count(cut, "</details>") {
		cut += "\n</details>"
	}
	return cut + truncationNote
}

// UpsertComment keeps one comment per check on a pull request: it edits the
// comment whose first line is Marker(check) or, when there is none, creates
// it. When older runs left several, the newest is edited and the others are
// left alone. It returns the comment's URL and whether it was created. A
// 403/404 yields a *PermissionError naming "pull-requests: write".
func (c *Client) UpsertComment(ctx context.Context, repo string, pr int, check, body string) (url string, created bool, err error) {
	owner, name, err := c.commentTarget(repo, pr, check)
	if err != nil {
		return "", false, err
	}
	marker := Marker(check)
	body = withMarker(body, marker)
	existing, err := c.findComment(ctx, owner, name, pr, marker)
	if err != nil {
		return "", false, err
	}
	if existing != nil {
		if existing.GetBody() == body {
			return existing.GetHTMLURL(), false, nil
		}
		got, _, err := c.gh.Issues.EditComment(ctx, owner, name, existing.GetID(), &gh.IssueComment{Body: &body})
		if err != nil {
			return "", false, apiError(err, fmt.Sprintf("update the %s comment on pull request #%d", check, pr), permComment)
		}
		return got.GetHTMLURL(), false, nil
	}
	got, _, err := c.gh.Issues.CreateComment(ctx, owner, name, pr, &gh.IssueComment{Body: &body})
	if err != nil {
		return "", false, apiError(err, fmt.Sprintf("create the %s comment on pull request #%d", check, pr), permComment)
	}
	return got.GetHTMLURL(), true, nil
}

// UpsertSection keeps one section of a shared comment up to date: the
// comment of check (found by Marker(check)) holds one section per name,
// each between hidden markers, in the order they were first written. Only
// the named section is replaced; the others stay as their checks last
// wrote them.
//
// Jobs that write their sections at the same time never leave two
// comments: copies created at once are merged into the oldest and the
// others deleted. After writing, it reads the comment back and writes again
// if its section was already overwritten. GitHub offers no compare-and-swap
// on comments, so a section can still be lost when another job writes a
// stale copy right after that check; writers of one comment should run one
// after another, as the generated workflows do.
func (c *Client) UpsertSection(ctx context.Context, repo string, pr int, check, section, body string) (url string, created bool, err error) {
	owner, name, err := c.commentTarget(repo, pr, check)
	if err != nil {
		return "", false, err
	}
	if err := validCheck(section); err != nil {
		return "", false, err
	}
	marker := Marker(check)
	what := fmt.Sprintf("the %s comment on pull request #%d", check, pr)
	for attempt := 0; attempt < 5; attempt++ {
		all, err := c.markerComments(ctx, owner, name, pr, marker)
		if err != nil {
			return "", created, err
		}
		if len(all) == 0 {
			b := withMarker(SetSection("", section, body), marker)
			if _, _, err := c.gh.Issues.CreateComment(ctx, owner, name, pr, &gh.IssueComment{Body: &b}); err != nil {
				return "", false, apiError(err, "create "+what, permComment)
			}
			created = true
			continue // read it back: another job may have created one too
		}
		canon := all[0]
		merged := canon.GetBody()
		for _, extra := range all[1:] {
			merged = mergeSections(merged, extra.GetBody())
		}
		merged = withMarker(SetSection(merged, section, body), marker)
		if merged != canon.GetBody() {
			if _, _, err := c.gh.Issues.EditComment(ctx, owner, name, canon.GetID(), &gh.IssueComment{Body: &merged}); err != nil {
				return "", created, apiError(err, "update "+what, permComment)
			}
		}
		for _, extra := range all[1:] {
			if _, err := c.gh.Issues.DeleteComment(ctx, owner, name, extra.GetID()); err != nil && !isNotFoundErr(err) {
				return "", created, apiError(err, "delete a duplicate of "+what, permComment)
			}
		}
		got, _, err := c.gh.Issues.GetComment(ctx, owner, name, canon.GetID())
		if err != nil {
			if isNotFoundErr(err) {
				continue // deleted by a concurrent writer that kept another copy
			}
			return "", created, apiError(err, "read back "+what, permComment)
		}
		if sectionOf(got.GetBody(), section) == sectionOf(merged, section) {
			return got.GetHTMLURL(), created, nil
		}
	}
	return "", created, fmt.Errorf("%s kept changing while its %s section was written; run the check again", what, section)
}

// commentTarget checks the arguments every comment call takes and splits
// the repository.
func (c *Client) commentTarget(repo string, pr int, check string) (owner, name string, err error) {
	if c == nil {
		return "", "", ErrNoToken
	}
	if owner, name, err = splitRepo(repo); err != nil {
		return "", "", err
	}
	if pr <= 0 {
		return "", "", fmt.Errorf("invalid pull request number %d: it must be positive", pr)
	}
	return owner, name, validCheck(check)
}

// markerComments returns every comment carrying the marker, oldest first.
func (c *Client) markerComments(ctx context.Context, owner, name string, pr int, marker string) ([]*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var out []*gh.IssueComment
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, name, pr, opts)
		if err != nil {
			return nil, apiError(err, fmt.Sprintf("list the comments of pull request #%d", pr), permComment)
		}
		for _, cm := range page {
			if hasMarker(cm.GetBody(), marker) {
				out = append(out, cm)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(out[j], out[i]) })
	return out, nil
}

func isNotFoundErr(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

func sectionStart(name string) string { return "<!-- brickci-section:" + name + " -->" }
func sectionEnd(name string) string   { return "<!-- /brickci-section:" + name + " -->" }

var sectionRe = regexp.MustCompile(`<!-- brickci-section:([A-Za-z0-9][A-Za-z0-9._-]*) -->`)

// part is one named section of a shared comment.
type part struct{ name, text string }

// parseSections splits a shared comment into its sections. A section whose
// end marker was lost, say to truncation, ends where the next one starts.
func parseSections(body string) []part {
	var parts []part
	starts := sectionRe.FindAllStringSubmatchIndex(body, -1)
	for i, m := range starts {
		name := body[m[2]:m[3]]
		end := len(body)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		text := body[m[1]:end]
		if j := strings.Index(text, sectionEnd(name)); j >= 0 {
			text = text[:j]
		}
		parts = append(parts, part{name, strings.Trim(text, "\n")})
	}
	return parts
}

func joinSections(parts []part) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(sectionStart(p.name) + "\n" + p.text + "\n" + sectionEnd(p.name) + "\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// SetSection returns the body of a shared comment with one section set to
// content (a leading marker line in content is dropped). Every HTML comment
// opener left in content is defused (see defuseComments), so text from a
// bundle or a test report can neither start a section nor end one.
func SetSection(old, name, content string) string {
	if first, rest, ok := strings.Cut(content, "\n"); ok && strings.HasPrefix(strings.TrimSpace(first), "<!-- brickci:") {
		content = rest
	}
	content = defuseComments(content)
	parts := parseSections(old)
	found := false
	for i := range parts {
		if parts[i].name == name {
			parts[i].text, found = strings.Trim(content, "\n"), true
		}
	}
	if !found {
		parts = append(parts, part{name, strings.Trim(content, "\n")})
	}
	return joinSections(parts)
}

// defuseComments puts a zero-width space inside every "<!--" of text. Only
// brickci writes section markers, and only around content; a marker inside
// content (in a code span, a code block, anywhere) is then no longer one,
// for parseSections nor for GitHub, and still reads the same.
func defuseComments(text string) string {
	return strings.ReplaceAll(text, "<!--", "<!\u200b--")
}

// sectionOf returns the text of one section, or "".
func sectionOf(body, name string) string {
	for _, p := range parseSections(body) {
		if p.name == name {
			return p.text
		}
	}
	return ""
}

// mergeSections adds to base the sections of other that base lacks.
func mergeSections(base, other string) string {
	have := map[string]bool{}
	for _, p := range parseSections(base) {
		have[p.name] = true
	}
	for _, p := range parseSections(other) {
		if !have[p.name] {
			base = SetSection(base, p.name, p.text)
		}
	}
	return base
}

// findComment returns the newest comment carrying the marker, or nil.
func (c *Client) findComment(ctx context.Context, owner, name string, pr int, marker string) (*gh.IssueComment, error) {
	all, err := c.markerComments(ctx, owner, name, pr, marker)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[len(all)-1], nil
}

// newer reports whether a was created after b (ids grow over time and
// break ties).
func newer(a, b *gh.IssueComment) bool {
	if b == nil {
		return true
	}
	at, bt := a.GetCreatedAt().Time, b.GetCreatedAt().Time
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.GetID() > b.GetID()
}
