package github

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/brickci/brickci/internal/gha"
)

// Commenter keeps a check's living pull-request comment. *Client implements
// it; a nil *Client answers ErrNoToken.
type Commenter interface {
	UpsertComment(ctx context.Context, repo string, pr int, check, body string) (url string, created bool, err error)
	UpsertSection(ctx context.Context, repo string, pr int, check, section, body string) (url string, created bool, err error)
}

// Post is what PostOrSummarize publishes.
type Post struct {
	// Repo is "owner/name" (GITHUB_REPOSITORY); empty means the pull
	// request's base repository.
	Repo string
	// PR is the triggering pull request, nil for workflow_dispatch, push
	// and local runs.
	PR *gha.PullRequest
	// Check selects the comment's marker ("validate", "plan").
	Check string
	// Section, when set, makes Body one section of Check's comment
	// (UpsertSection) instead of the whole comment.
	Section string
	// Body is the markdown, usually Comment.Markdown().
	Body string
}

// Posted says where PostOrSummarize put the result.
type Posted struct {
	// URL is the comment's address when one was written.
	URL string
	// Created is true when the comment was new rather than edited.
	Created bool
	// Summarized is true when the body went to the step summary instead.
	Summarized bool
	// Reason says why no comment was written; empty when one was, or when
	// there was no pull request.
	Reason string
}

// PostOrSummarize is the commenting policy of the validate and plan modes.
//
//   - No pull request: the body goes to the step summary only.
//   - A fork pull request, no token (c is nil or a nil *Client), or a token
//     without permission: the body goes to the step summary and one line on
//     log says why, for example `could not comment on pull request #7: the
//     token lacks "pull-requests: write" (...); the result is in the step
//     summary`. None of these fail the step: the result is not lost.
//   - Otherwise the check's comment is created or edited and one line on log
//     gives its URL.
//
// Any other failure (GitHub unavailable, a bad repository name) also writes
// the step summary, so the result is not lost, and is returned so the caller
// can decide whether it fails the step. summary is typically
// (*gha.Action).AddSummary.
func PostOrSummarize(ctx context.Context, c Commenter, p Post, summary func(markdown string) error, log io.Writer) (Posted, error) {
	toSummary := func(reason string) (Posted, error) {
		if err := summary(p.Body); err != nil {
			return Posted{Reason: reason}, fmt.Errorf("failed to write the step summary: %w", err)
		}
		return Posted{Summarized: true, Reason: reason}, nil
	}
	if p.PR == nil {
		return toSummary("")
	}
	fallback := func(reason string) (Posted, error) {
		fmt.Fprintf(log, "could not comment on pull request #%d: %s; the result is in the step summary\n", p.PR.Number, reason)
		return toSummary(reason)
	}
	if p.PR.IsFork() {
		return fallback("it comes from a fork, whose token is read-only")
	}
	if c == nil {
		return fallback(ErrNoToken.Error())
	}
	repo := p.Repo
	if repo == "" {
		repo = p.PR.Base.Repo.FullName
	}
	var url string
	var created bool
	var err error
	if p.Section != "" {
		url, created, err = c.UpsertSection(ctx, repo, p.PR.Number, p.Check, p.Section, p.Body)
	} else {
		url, created, err = c.UpsertComment(ctx, repo, p.PR.Number, p.Check, p.Body)
	}
	var pe *PermissionError
	switch {
	case errors.As(err, &pe):
		return fallback(pe.Error())
	case errors.Is(err, ErrNoToken):
		return fallback(ErrNoToken.Error())
	case err != nil:
		posted, serr := toSummary(err.Error())
		return posted, errors.Join(err, serr)
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	what := p.Check + " comment"
	if p.Section != "" {
		what = p.Section + " section of the " + what
	}
	fmt.Fprintf(log, "%s the %s on pull request #%d: %s\n", verb, what, p.PR.Number, url)
	return Posted{URL: url, Created: created}, nil
}
