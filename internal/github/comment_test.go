package github

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestUpsertCommentTwiceLeavesOneComment(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()

	url1, created1, err := c.UpsertComment(ctx, testRepo, 7, "plan", "first plan")
	if err != nil {
		t.Fatal(err)
	}
	url2, created2, err := c.UpsertComment(ctx, testRepo, 7, "plan", "second plan")
	if err != nil {
		t.Fatal(err)
	}
	if !created1 || created2 {
		t.Errorf("created = %v, %v; want true, false", created1, created2)
	}
	if url1 != url2 || url1 == "" {
		t.Errorf("urls = %q, %q; want the same comment", url1, url2)
	}
	if diff := cmp.Diff([]string{"<!-- brickci:plan -->\nsecond plan"}, f.commentsOf(7)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestUpsertCommentPerCheck(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	for _, step := range []struct{ check, body string }{
		{"validate", "validate v1"},
		{"plan", "plan v1"},
		{"plan", "plan v2"},
	} {
		if _, _, err := c.UpsertComment(ctx, testRepo, 3, step.check, step.body); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"<!-- brickci:validate -->\nvalidate v1", "<!-- brickci:plan -->\nplan v2"}
	if diff := cmp.Diff(want, f.commentsOf(3)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestUpsertCommentFindsMarkerOnLaterPage(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	var want []string
	add := func(body string) {
		f.seedComment(9, body)
		want = append(want, body)
	}
	for i := range 120 {
		add(fmt.Sprintf("review remark %d", i))
	}
	// Look-alikes that must not be taken for the plan comment.
	add("<!-- brickci:plan-staging -->\nanother check")
	add("> <!-- brickci:plan -->\n> quoted by a person")
	add("<!-- brickci:plan -->\nfrom an old run")
	for i := range 40 {
		add(fmt.Sprintf("later remark %d", i))
	}
	add("<!-- brickci:plan -->\nfrom the last run") // the newest, on page 2
	add("thanks!")

	_, created, err := c.UpsertComment(context.Background(), testRepo, 9, "plan", "<!-- brickci:plan -->\nnew plan")
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created a comment; want the newest marked one edited")
	}
	want[len(want)-2] = "<!-- brickci:plan -->\nnew plan"
	if diff := cmp.Diff(want, f.commentsOf(9)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	var lists int
	for _, r := range f.requestLog() {
		if strings.HasPrefix(r, "GET ") {
			lists++
		}
	}
	if lists != 2 {
		t.Errorf("listed %d pages, want 2 (100 per page): %q", lists, f.requestLog())
	}
}

func TestUpsertCommentUnchangedBodyIsNotSent(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	for range 2 {
		if _, _, err := c.UpsertComment(ctx, testRepo, 4, "validate", "same"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"GET /api/v3/repos/acme/rag/issues/4/comments",
		"POST /api/v3/repos/acme/rag/issues/4/comments",
		"GET /api/v3/repos/acme/rag/issues/4/comments",
	}
	if diff := cmp.Diff(want, f.requestLog()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestUpsertCommentForbidden(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.addFault(fault{route: routeCreateComment, status: 403, times: 1,
		body: map[string]string{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment"}})
	c, waits := f.client(t)
	_, _, err := c.UpsertComment(context.Background(), testRepo, 7, "plan", "body")
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("err = %v, want ErrPermission", err)
	}
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Permission != "pull-requests: write" || pe.Status != 403 {
		t.Errorf("err = %#v, want a 403 PermissionError for pull-requests: write", pe)
	}
	if !strings.Contains(err.Error(), `the token lacks "pull-requests: write"`) {
		t.Errorf("message %q does not name the permission", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("message %q contains the token", err)
	}
	if len(*waits) != 0 {
		t.Errorf("a permission error was retried: waits %v", *waits)
	}
}

func TestUpsertCommentBadInput(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	tests := []struct {
		name, repo, check string
		pr                int
		want              string
	}{
		{"repo without owner", "rag", "plan", 1, `invalid repository "rag": use "owner/name" as in GITHUB_REPOSITORY`},
		{"repo with path", "acme/rag/x", "plan", 1, `invalid repository "acme/rag/x": use "owner/name" as in GITHUB_REPOSITORY`},
		{"zero pr", testRepo, "plan", 0, "invalid pull request number 0: it must be positive"},
		{"check that could end the marker", testRepo, "plan -->", 1, `invalid check name "plan -->": use letters, digits, '.', '_' or '-'`},
		{"empty check", testRepo, "", 1, `invalid check name "": use letters, digits, '.', '_' or '-'`},
	}
	t.Cleanup(func() {
		if got := f.requestLog(); len(got) != 0 {
			t.Errorf("bad input reached GitHub: %q", got)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := c.UpsertComment(context.Background(), tt.repo, tt.pr, tt.check, "body")
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNilClientHasNoToken(t *testing.T) {
	t.Parallel()
	var c *Client
	if _, _, err := c.UpsertComment(context.Background(), testRepo, 1, "plan", "x"); !errors.Is(err, ErrNoToken) {
		t.Errorf("UpsertComment err = %v, want ErrNoToken", err)
	}
	if _, _, err := c.EnsurePullRequest(context.Background(), testRepo, "h", "main", "t", "b", nil); !errors.Is(err, ErrNoToken) {
		t.Errorf("EnsurePullRequest err = %v, want ErrNoToken", err)
	}
}

func TestCapBody(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("é", 40) + "\n" // multi-byte, to catch cuts inside a rune
	tests := []struct {
		name      string
		body      string
		truncated bool
		suffix    string
	}{
		{"short", "hello", false, "hello"},
		{"exactly the limit", strings.Repeat("a", MaxBodyLength), false, "aaaa"},
		{"long", strings.Repeat(line, 2000), true, truncationNote},
		{"open code fence", "```\n" + strings.Repeat(line, 2000), true, "\n```" + truncationNote},
		{"open details", "<details><summary>x</summary>\n\n" + strings.Repeat(line, 2000), true, "\n</details>" + truncationNote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := CapBody(tt.body)
			if len(got) > MaxBodyLength {
				t.Errorf("len = %d, over the limit", len(got))
			}
			if !utf8.ValidString(got) {
				t.Error("cut inside a character")
			}
			if (got != tt.body) != tt.truncated {
				t.Errorf("truncated = %v, want %v", got != tt.body, tt.truncated)
			}
			if !strings.HasSuffix(got, tt.suffix) {
				t.Errorf("ends with %q, want suffix %q", got[max(len(got)-120, 0):], tt.suffix)
			}
		})
	}
}

func TestUpsertCommentCapsLongBodyKeepingMarker(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	long := strings.Repeat("| a | b |\n", 10000)
	for range 2 {
		if _, _, err := c.UpsertComment(context.Background(), testRepo, 2, "validate", long); err != nil {
			t.Fatal(err)
		}
	}
	got := f.commentsOf(2)
	if len(got) != 1 {
		t.Fatalf("got %d comments, want 1 (the marker must survive truncation)", len(got))
	}
	if !strings.HasPrefix(got[0], Marker("validate")+"\n") || !strings.HasSuffix(got[0], truncationNote) {
		t.Errorf("body starts %q and ends %q; want the marker first and the note last", got[0][:40], got[0][len(got[0])-40:])
	}
}

// Checks that share a comment each keep their own section: two runs of
// three checks leave one comment holding the newest body of each, in the
// order they first wrote.
func TestUpsertSectionSharesOneComment(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	for _, run := range []string{"first", "second"} {
		for _, section := range []string{"validate", "plan-staging", "plan-prod"} {
			if _, _, err := c.UpsertSection(ctx, testRepo, 9, "bundle", section, Marker(section)+"\n### "+section+" "+run+"\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	bodies := f.commentsOf(9)
	if len(bodies) != 1 {
		t.Fatalf("%d comments, want 1: %q", len(bodies), bodies)
	}
	want := Marker("bundle") + "\n" +
		"<!-- brickci-section:validate -->\n### validate second\n<!-- /brickci-section:validate -->\n\n" +
		"<!-- brickci-section:plan-staging -->\n### plan-staging second\n<!-- /brickci-section:plan-staging -->\n\n" +
		"<!-- brickci-section:plan-prod -->\n### plan-prod second\n<!-- /brickci-section:plan-prod -->\n"
	if diff := cmp.Diff(want, bodies[0]); diff != "" {
		t.Errorf("comment (-want +got):\n%s", diff)
	}
}

func TestSetSectionSurvivesALostEndMarker(t *testing.T) {
	t.Parallel()
	old := "<!-- brickci-section:a -->\nA, cut short\n<!-- brickci-section:b -->\nB\n<!-- /brickci-section:b -->\n"
	got := SetSection(old, "b", "B2")
	want := "<!-- brickci-section:a -->\nA, cut short\n<!-- /brickci-section:a -->\n\n<!-- brickci-section:b -->\nB2\n<!-- /brickci-section:b -->\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Checks writing their sections at the same time leave one comment, never
// duplicates: copies created at once are merged into the oldest and
// deleted. (Without a compare-and-swap on comments, a section written at
// the very moment another job writes a stale copy can be lost until its
// next run, which is why the generated workflows run these jobs one after
// another.) A later sequential round makes every section current.
func TestUpsertSectionConcurrently(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	sections := []string{"validate", "plan-staging", "plan-prod", "lint"}
	var wg sync.WaitGroup
	errs := make(chan error, len(sections))
	for _, s := range sections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.UpsertSection(ctx, testRepo, 4, "bundle", s, "### "+s+" first"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if bodies := f.commentsOf(4); len(bodies) != 1 {
		t.Fatalf("%d comments after concurrent writes, want 1:\n%s", len(bodies), strings.Join(bodies, "\n----\n"))
	}
	for _, s := range sections {
		if _, _, err := c.UpsertSection(ctx, testRepo, 4, "bundle", s, "### "+s+" second"); err != nil {
			t.Fatal(err)
		}
	}
	bodies := f.commentsOf(4)
	if len(bodies) != 1 {
		t.Fatalf("%d comments, want 1", len(bodies))
	}
	for _, s := range sections {
		if got := sectionOf(bodies[0], s); got != "### "+s+" second" {
			t.Errorf("section %s = %q\n%s", s, got, bodies[0])
		}
	}
}

// Two copies of the shared comment (two jobs created it at once) are merged
// into the oldest, and the newer copy is deleted.
func TestUpsertSectionMergesDuplicateComments(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	b1 := Marker("bundle") + "\n" + SetSection("", "validate", "V")
	b2 := Marker("bundle") + "\n" + SetSection("", "plan-prod", "P")
	f.mu.Lock()
	f.addComment(6, b1)
	f.addComment(6, b2)
	f.mu.Unlock()
	if _, _, err := c.UpsertSection(ctx, testRepo, 6, "bundle", "plan-staging", "S"); err != nil {
		t.Fatal(err)
	}
	bodies := f.commentsOf(6)
	if len(bodies) != 1 {
		t.Fatalf("%d comments, want the duplicate deleted:\n%s", len(bodies), strings.Join(bodies, "\n----\n"))
	}
	for name, want := range map[string]string{"validate": "V", "plan-prod": "P", "plan-staging": "S"} {
		if got := sectionOf(bodies[0], name); got != want {
			t.Errorf("section %s = %q, want %q\n%s", name, got, want, bodies[0])
		}
	}
	if !strings.HasPrefix(bodies[0], b1[:len(Marker("bundle"))]) || !strings.Contains(bodies[0], "validate") {
		t.Errorf("the oldest copy was not the one kept:\n%s", bodies[0])
	}
}
