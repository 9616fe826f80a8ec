package main

import (
	"context"
	"errors"

	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/github"
)

// sharedComment is the one pull-request comment validate and plan write
// to, each check into its own section.
const sharedComment = "bundle"

// publishComment keeps the check's section of the pull request's one
// brickci comment up to date with the comment's content. It never fails
// the step for reasons outside the check (a fork, no token, a missing
// permission, no pull request): the result then stays in the step summary
// and one line says why. An
// unexpected GitHub failure is printed and turned into exit code 1 only
// when the check itself passed, so a broken comment is not silent.
//
// summaryWritten is true when the mode already wrote the same content to
// the step summary, so the fallback does not write it twice.
func publishComment(ctx context.Context, inv *invocation, a *gha.Action, c github.Comment, summaryWritten bool) int {
	c.RunURL = a.RunURL()
	c.Commit = inv.getenv("GITHUB_SHA")
	pr, err := a.PullRequestEvent()
	if err != nil && !errors.Is(err, gha.ErrNoPullRequest) {
		inv.say("%v", err)
		pr = nil
	}
	client, err := github.New(githubOptions(inv))
	if err != nil && !errors.Is(err, github.ErrNoToken) {
		return bad(inv, "%v", err)
	}
	var commenter github.Commenter
	if client != nil {
		commenter = client
	}
	summary := a.AddSummary
	if summaryWritten {
		summary = func(string) error { return nil }
	}
	post := github.Post{Repo: inv.getenv("GITHUB_REPOSITORY"), PR: pr, Check: sharedComment, Section: c.Check, Body: c.Markdown()}
	posted, err := github.PostOrSummarize(ctx, commenter, post, summary, inv.stderr)
	if err != nil {
		return failed(inv, "failed to update the pull-request comment: %v", err)
	}
	if posted.URL != "" {
		_ = a.SetOutput("comment_url", posted.URL)
	}
	return exitOK
}
