package gha

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// PullRequest is the part of a pull_request event brickci uses.
type PullRequest struct {
	Number  int    `json:"number"`
	Title   string `json:"title"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		Ref  string `json:"ref"`
		SHA  string `json:"sha"`
		Repo struct {
			FullName string `json:"full_name"`
			Fork     bool   `json:"fork"`
		} `json:"repo"`
	} `json:"head"`
	Base struct {
		Ref  string `json:"ref"`
		Repo struct {
			FullName string `json:"full_name"`
		} `json:"repo"`
	} `json:"base"`
}

// IsFork reports whether the pull request comes from another repository,
// in which case its token is read-only and it gets no secrets.
func (p *PullRequest) IsFork() bool {
	return p.Head.Repo.Fork || (p.Head.Repo.FullName != "" && p.Head.Repo.FullName != p.Base.Repo.FullName)
}

// ErrNoPullRequest means the run was not triggered by a pull request.
var ErrNoPullRequest = errors.New("the run was not triggered by a pull request")

// PullRequestEvent reads the pull request from GITHUB_EVENT_PATH for
// pull_request and pull_request_target events.
func (a *Action) PullRequestEvent() (*PullRequest, error) {
	switch a.getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return nil, ErrNoPullRequest
	}
	path := a.getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return nil, ErrNoPullRequest
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the event: %w", err)
	}
	var ev struct {
		Number      int          `json:"number"`
		PullRequest *PullRequest `json:"pull_request"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("failed to parse the event in %s: %w", path, err)
	}
	if ev.PullRequest == nil {
		return nil, ErrNoPullRequest
	}
	if ev.PullRequest.Number == 0 {
		ev.PullRequest.Number = ev.Number
	}
	return ev.PullRequest, nil
}

// RunURL links to the current workflow run, or "" outside Actions.
func (a *Action) RunURL() string {
	server, repo, id := a.getenv("GITHUB_SERVER_URL"), a.getenv("GITHUB_REPOSITORY"), a.getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return server + "/" + repo + "/actions/runs/" + id
}
