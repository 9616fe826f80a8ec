package github

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v75/github"
)

type pullState struct {
	Number      int
	Title, Body string
	Head, Base  string
	Reviewers   []string
}

func (f *fakeGitHub) pullStates() []pullState {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []pullState
	for _, p := range f.pulls {
		out = append(out, pullState{p.GetNumber(), p.GetTitle(), p.GetBody(), p.GetHead().GetLabel(), p.GetBase().GetRef(), f.reviewers[p.GetNumber()]})
	}
	return out
}

func TestEnsurePullRequestTwiceUpdatesOne(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	const head = "brickci/regenerate-rag_chatbot"

	url1, created1, err := c.EnsurePullRequest(ctx, testRepo, head, "main", "Regenerate workflows", "v1", []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	url2, created2, err := c.EnsurePullRequest(ctx, testRepo, head, "main", "Regenerate workflows (2)", "v2", []string{"alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !created1 || created2 {
		t.Errorf("created = %v, %v; want true, false", created1, created2)
	}
	if url1 != url2 || !strings.HasSuffix(url1, "/pull/1") {
		t.Errorf("urls = %q, %q; want the same pull request", url1, url2)
	}
	want := []pullState{{1, "Regenerate workflows (2)", "v2", "acme:" + head, "main", []string{"alice", "alice"}}}
	if diff := cmp.Diff(want, f.pullStates()); diff != "" {
		t.Errorf("pull requests (-want +got):\n%s", diff)
	}
}

func TestEnsurePullRequestOtherBaseIsSeparate(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	ctx := context.Background()
	for _, base := range []string{"main", "release"} {
		if _, created, err := c.EnsurePullRequest(ctx, testRepo, "brickci/regen", base, "t", "b", nil); err != nil || !created {
			t.Fatalf("base %s: created=%v err=%v", base, created, err)
		}
	}
	if got := len(f.pullStates()); got != 2 {
		t.Errorf("%d pull requests, want one per base", got)
	}
}

func TestEnsurePullRequestRaceWithAnotherRun(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c, _ := f.client(t)
	// The search finds nothing, but by the time of the create another run
	// has opened the pull request.
	f.addFault(fault{route: routeListPulls, status: 200, body: []*gh.PullRequest{}, times: 1})
	f.mu.Lock()
	f.pulls = append(f.pulls, &gh.PullRequest{Number: gh.Ptr(1), State: gh.Ptr("open"), Title: gh.Ptr("old"), Body: gh.Ptr("old"),
		HTMLURL: gh.Ptr("https://github.example/acme/rag/pull/1"),
		Head:    &gh.PullRequestBranch{Ref: gh.Ptr("regen"), Label: gh.Ptr("acme:regen")}, Base: &gh.PullRequestBranch{Ref: gh.Ptr("main")}})
	f.mu.Unlock()

	url, created, err := c.EnsurePullRequest(context.Background(), testRepo, "regen", "main", "new", "new body", nil)
	if err != nil {
		t.Fatal(err)
	}
	if created || url != "https://github.example/acme/rag/pull/1" {
		t.Errorf("url=%q created=%v; want the existing pull request updated", url, created)
	}
	want := []pullState{{1, "new", "new body", "acme:regen", "main", nil}}
	if diff := cmp.Diff(want, f.pullStates()); diff != "" {
		t.Errorf("pull requests (-want +got):\n%s", diff)
	}
}

func TestEnsurePullRequestReviewers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		hideAuthor bool
		reviewers  []string
		want       []string
	}{
		{"author skipped before asking", false, []string{"octocat", "@bob", "bob", "github-actions[bot]", ""}, []string{"bob"}},
		{"author refusal ignored", true, []string{"octocat"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.hideAuthor = tt.hideAuthor
			c, _ := f.client(t)
			url, _, err := c.EnsurePullRequest(context.Background(), testRepo, "regen", "main", "t", "b", tt.reviewers)
			if err != nil || url == "" {
				t.Fatalf("url=%q err=%v", url, err)
			}
			if diff := cmp.Diff(tt.want, f.pullStates()[0].Reviewers); diff != "" {
				t.Errorf("reviewers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnsurePullRequestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		head, base       string
		title            string
		fault            *fault
		wantPerm         bool
		want             string
		wantURLDespiteIt bool
	}{
		{name: "same branches", head: "main", base: "main", title: "t", want: `the head and base branches are both "main": push the changes to another branch`},
		{name: "head with owner", head: "acme:x", base: "main", title: "t", want: `invalid head branch "acme:x": give a branch name of acme/rag`},
		{name: "no title", head: "x", base: "main", title: " ", want: "the pull request title is empty: give one"},
		{
			name: "actions may not create pull requests", head: "x", base: "main", title: "t", wantPerm: true,
			fault: &fault{route: routeCreatePull, status: 403, times: 1, body: map[string]string{"message": "GitHub Actions is not permitted to create or approve pull requests."}},
			want:  `failed to create a pull request from "x" to "main": the token lacks "pull-requests: write" (also enable "Allow GitHub Actions to create and approve pull requests" in the repository's Actions settings)`,
		},
		{
			name: "no commits", head: "x", base: "main", title: "t",
			fault: &fault{route: routeCreatePull, status: 422, times: 1, body: gh.ErrorResponse{Message: "Validation Failed", Errors: []gh.Error{{Message: "No commits between main and x"}}}},
			want:  `failed to create the pull request: branch "x" has no commits that "main" lacks; push the changes first`,
		},
		{
			name: "reviewer refused", head: "x", base: "main", title: "t", wantURLDespiteIt: true,
			fault: &fault{route: routeReviewers, status: 422, times: 1, body: gh.ErrorResponse{Message: "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/rag repository."}},
			want:  `failed to request a review from ["bob"] on pull request #1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			if tt.fault != nil {
				f.addFault(*tt.fault)
			}
			c, _ := f.client(t)
			url, _, err := c.EnsurePullRequest(context.Background(), testRepo, tt.head, tt.base, tt.title, "b", []string{"bob"})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrPermission) != tt.wantPerm {
				t.Errorf("errors.Is(err, ErrPermission) = %v, want %v", !tt.wantPerm, tt.wantPerm)
			}
			if (url != "") != tt.wantURLDespiteIt {
				t.Errorf("url = %q, want set: %v", url, tt.wantURLDespiteIt)
			}
		})
	}
}
