package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v75/github"
)

const (
	permPRRead  = "pull-requests: read"
	permPRWrite = "pull-requests: write"
)

// EnsurePullRequest keeps one open pull request from head to base in repo:
// it finds the open one from "owner:head" to base and updates its title and
// body, or creates it. It then requests reviews from reviewers (typically
// the actor who dispatched the run), skipping bots and the pull request's
// author, whom GitHub refuses. Running it again never fails because the
// pull request already exists.
//
// It returns the pull request's URL and whether it was created. When only
// requesting reviewers fails, url is still set and err says why.
func (c *Client) EnsurePullRequest(ctx context.Context, repo, head, base, title, body string, reviewers []string) (url string, created bool, err error) {
	if c == nil {
		return "", false, ErrNoToken
	}
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", false, err
	}
	switch {
	case strings.TrimSpace(head) == "" || strings.Contains(head, ":"):
		return "", false, fmt.Errorf("invalid head branch %q: give a branch name of %s", head, repo)
	case strings.TrimSpace(base) == "":
		return "", false, errors.New("the base branch is empty: give the branch the pull request should merge into")
	case head == base:
		return "", false, fmt.Errorf("the head and base branches are both %q: push the changes to another branch", head)
	case strings.TrimSpace(title) == "":
		return "", false, errors.New("the pull request title is empty: give one")
	}
	body = CapBody(body)

	pr, err := c.findPullRequest(ctx, owner, name, head, base)
	if err != nil {
		return "", false, err
	}
	if pr == nil {
		pr, _, err = c.gh.PullRequests.Create(ctx, owner, name, &gh.NewPullRequest{Title: &title, Head: &head, Base: &base, Body: &body})
		switch {
		case err == nil:
			created = true
		case unprocessable(err, "a pull request already exists"):
			// Another run created it between the search and the create.
			if pr, err = c.findPullRequest(ctx, owner, name, head, base); err == nil && pr == nil {
				err = fmt.Errorf("failed to find the open pull request from %q to %q that GitHub says exists", head, base)
			}
			if err != nil {
				return "", false, err
			}
		case unprocessable(err, "no commits between"):
			return "", false, fmt.Errorf("failed to create the pull request: branch %q has no commits that %q lacks; push the changes first", head, base)
		default:
			return "", false, apiError(err, fmt.Sprintf("create a pull request from %q to %q", head, base), permPRWrite)
		}
	}
	if !created && (pr.GetTitle() != title || pr.GetBody() != body) {
		number := pr.GetNumber()
		pr, _, err = c.gh.PullRequests.Edit(ctx, owner, name, number, &gh.PullRequest{Title: &title, Body: &body})
		if err != nil {
			return "", false, apiError(err, fmt.Sprintf("update pull request #%d", number), permPRWrite)
		}
	}
	url = pr.GetHTMLURL()
	if err := c.requestReviewers(ctx, owner, name, pr, reviewers); err != nil {
		return url, created, err
	}
	return url, created, nil
}

// findPullRequest returns the open pull request from owner:head to base, or
// nil. GitHub allows only one, so no paging is needed.
func (c *Client) findPullRequest(ctx context.Context, owner, name, head, base string) (*gh.PullRequest, error) {
	prs, _, err := c.gh.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{
		State: "open", Head: owner + ":" + head, Base: base, ListOptions: gh.ListOptions{PerPage: 10},
	})
	if err != nil {
		return nil, apiError(err, fmt.Sprintf("list pull requests from %q", head), permPRRead)
	}
	for _, pr := range prs {
		if pr.GetHead().GetRef() == head && pr.GetBase().GetRef() == base {
			return pr, nil
		}
	}
	return nil, nil
}

// requestReviewers asks reviewers to review pr. GitHub refuses a review
// request to the pull request's author with 422; that is not an error here
// (the author is often the actor who dispatched the regeneration).
func (c *Client) requestReviewers(ctx context.Context, owner, name string, pr *gh.PullRequest, reviewers []string) error {
	author := pr.GetUser().GetLogin()
	var want []string
	seen := map[string]bool{}
	for _, r := range reviewers {
		r = strings.TrimPrefix(strings.TrimSpace(r), "@")
		key := strings.ToLower(r)
		if r == "" || seen[key] || strings.HasSuffix(key, "[bot]") || strings.EqualFold(r, author) {
			continue
		}
		seen[key] = true
		want = append(want, r)
	}
	if len(want) == 0 {
		return nil
	}
	_, _, err := c.gh.PullRequests.RequestReviewers(ctx, owner, name, pr.GetNumber(), gh.ReviewersRequest{Reviewers: want})
	if err == nil || unprocessable(err, "review cannot be requested from pull request author") {
		return nil
	}
	if unprocessable(err, "") {
		return fmt.Errorf("failed to request a review from %q on pull request #%d: %w; they must be collaborators of %s/%s", want, pr.GetNumber(), err, owner, name)
	}
	return apiError(err, fmt.Sprintf("request a review from %q on pull request #%d", want, pr.GetNumber()), permPRWrite)
}

// unprocessable reports whether err is a 422 whose message or detail
// contains text (case-insensitive); empty text matches any 422.
func unprocessable(err error, text string) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	text = strings.ToLower(text)
	if strings.Contains(strings.ToLower(er.Message), text) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(strings.ToLower(e.Message), text) {
			return true
		}
	}
	return false
}
