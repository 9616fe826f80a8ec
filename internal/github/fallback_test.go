package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/gha"
)

// stubCommenter answers UpsertComment and UpsertSection with fixed values.
type stubCommenter struct {
	url      string
	created  bool
	err      error
	calls    int
	sections []string
}

func (s *stubCommenter) UpsertComment(context.Context, string, int, string, string) (string, bool, error) {
	s.calls++
	return s.url, s.created, s.err
}

func (s *stubCommenter) UpsertSection(_ context.Context, _ string, _ int, _, section, _ string) (string, bool, error) {
	s.calls++
	s.sections = append(s.sections, section)
	return s.url, s.created, s.err
}

func pr(number int, headRepo string) *gha.PullRequest {
	p := &gha.PullRequest{Number: number}
	p.Head.Repo.FullName = headRepo
	p.Base.Repo.FullName = testRepo
	return p
}

func TestPostOrSummarize(t *testing.T) {
	t.Parallel()
	var nilClient *Client
	permErr := fmt.Errorf("failed to create the plan comment on pull request #7: %w", &PermissionError{Permission: permComment, Status: 403})
	tests := []struct {
		name        string
		commenter   Commenter
		pr          *gha.PullRequest
		want        Posted
		wantLog     string
		wantSummary bool
		wantErr     bool
		wantCalls   int
	}{
		{
			name: "no pull request", commenter: &stubCommenter{}, pr: nil,
			want: Posted{Summarized: true}, wantSummary: true,
		},
		{
			name: "fork", commenter: &stubCommenter{}, pr: pr(7, "someone/rag"),
			want:        Posted{Summarized: true, Reason: "it comes from a fork, whose token is read-only"},
			wantLog:     "could not comment on pull request #7: it comes from a fork, whose token is read-only; the result is in the step summary\n",
			wantSummary: true,
		},
		{
			name: "no client", commenter: nil, pr: pr(7, testRepo),
			want:        Posted{Summarized: true, Reason: ErrNoToken.Error()},
			wantLog:     "could not comment on pull request #7: " + ErrNoToken.Error() + "; the result is in the step summary\n",
			wantSummary: true,
		},
		{
			name: "nil *Client", commenter: nilClient, pr: pr(7, testRepo),
			want:        Posted{Summarized: true, Reason: ErrNoToken.Error()},
			wantLog:     "could not comment on pull request #7: " + ErrNoToken.Error() + "; the result is in the step summary\n",
			wantSummary: true,
		},
		{
			name: "permission", commenter: &stubCommenter{err: permErr}, pr: pr(7, testRepo),
			want:        Posted{Summarized: true, Reason: `the token lacks "pull-requests: write" (grant it in the job's permissions block)`},
			wantLog:     `could not comment on pull request #7: the token lacks "pull-requests: write" (grant it in the job's permissions block); the result is in the step summary` + "\n",
			wantSummary: true, wantCalls: 1,
		},
		{
			name: "other failure", commenter: &stubCommenter{err: errors.New("failed to list the comments of pull request #7: boom")}, pr: pr(7, testRepo),
			want:        Posted{Summarized: true, Reason: "failed to list the comments of pull request #7: boom"},
			wantSummary: true, wantErr: true, wantCalls: 1,
		},
		{
			name: "commented", commenter: &stubCommenter{url: "https://github.example/c/1", created: true}, pr: pr(7, testRepo),
			want:    Posted{URL: "https://github.example/c/1", Created: true},
			wantLog: "created the plan comment on pull request #7: https://github.example/c/1\n", wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var summary []string
			var log bytes.Buffer
			got, err := PostOrSummarize(context.Background(), tt.commenter, Post{PR: tt.pr, Check: "plan", Body: "the plan"},
				func(md string) error { summary = append(summary, md); return nil }, &log)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLog, log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
			var wantSummary []string
			if tt.wantSummary {
				wantSummary = []string{"the plan"}
			}
			if diff := cmp.Diff(wantSummary, summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if s, ok := tt.commenter.(*stubCommenter); ok && s.calls != tt.wantCalls {
				t.Errorf("UpsertComment called %d times, want %d", s.calls, tt.wantCalls)
			}
		})
	}
}

// TestPostOrSummarizeForbiddenEndToEnd runs the policy against the fake
// GitHub answering 403 to the comment.
func TestPostOrSummarizeForbiddenEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.addFault(fault{route: routeCreateComment, status: 403, times: 1, body: map[string]string{"message": "Resource not accessible by integration"}})
	c, _ := f.client(t)
	var summary, log bytes.Buffer
	got, err := PostOrSummarize(context.Background(), c, Post{Repo: testRepo, PR: pr(7, testRepo), Check: "validate", Body: "findings"},
		func(md string) error { summary.WriteString(md); return nil }, &log)
	if err != nil {
		t.Fatalf("err = %v, want the step not to fail", err)
	}
	if !got.Summarized || summary.String() != "findings" {
		t.Errorf("result %+v, summary %q; want the body in the summary", got, summary.String())
	}
	wantLog := `could not comment on pull request #7: the token lacks "pull-requests: write" (grant it in the job's permissions block); the result is in the step summary` + "\n"
	if diff := cmp.Diff(wantLog, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestPostOrSummarizeSummaryFailure(t *testing.T) {
	t.Parallel()
	_, err := PostOrSummarize(context.Background(), nil, Post{Check: "plan", Body: "x"},
		func(string) error { return errors.New("disk full") }, &bytes.Buffer{})
	if err == nil || err.Error() != "failed to write the step summary: disk full" {
		t.Errorf("err = %v", err)
	}
}
