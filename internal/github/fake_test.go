package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v75/github"
)

const (
	testToken = "ghs_testtoken0123456789"
	testRepo  = "acme/rag"
)

// The fake's routes, as http.ServeMux patterns.
const (
	apiRepo = "/api/v3/repos/{owner}/{repo}"
	// GET issues/{number}/comments and GET issues/comments/{id} overlap as
	// ServeMux patterns, so one route serves both.
	routeGetIssuePath = "GET " + apiRepo + "/issues/{a}/{b}"
	// routeListComments names that route where faults target listing.
	routeListComments  = routeGetIssuePath
	routeCreateComment = "POST " + apiRepo + "/issues/{number}/comments"
	routeEditComment   = "PATCH " + apiRepo + "/issues/comments/{id}"
	routeDeleteComment = "DELETE " + apiRepo + "/issues/comments/{id}"
	routeListPulls     = "GET " + apiRepo + "/pulls"
	routeCreatePull    = "POST " + apiRepo + "/pulls"
	routeEditPull      = "PATCH " + apiRepo + "/pulls/{number}"
	routeReviewers     = "POST " + apiRepo + "/pulls/{number}/requested_reviewers"
)

// fault is a canned answer the fake gives instead of the real one, times
// times, to requests on route.
type fault struct {
	route  string
	status int
	header map[string]string
	body   any
	times  int
}

// fakeGitHub speaks the subset of the GitHub REST API brickci uses, under
// /api/v3 as GitHub Enterprise Server does, with go-github's own types as
// the wire format.
type fakeGitHub struct {
	srv *httptest.Server

	mu        sync.Mutex
	nextID    int64
	clock     time.Time
	comments  map[int][]*gh.IssueComment
	pulls     []*gh.PullRequest
	reviewers map[int][]string
	requests  []string
	faults    []*fault
	// prAuthor is the login of the pull requests' author. When hideAuthor
	// is set it is left out of the JSON, as if unknown to the client.
	prAuthor   string
	hideAuthor bool
}

func newFake(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{
		nextID: 1000, clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		comments: map[int][]*gh.IssueComment{}, reviewers: map[int][]string{}, prAuthor: "octocat",
	}
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.requests = append(f.requests, r.Method+" "+r.URL.Path)
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				writeJSON(w, http.StatusUnauthorized, gh.ErrorResponse{Message: "Bad credentials"})
				return
			}
			for _, ft := range f.faults {
				if ft.times > 0 && pattern == ft.route {
					ft.times--
					for k, v := range ft.header {
						w.Header().Set(k, v)
					}
					writeJSON(w, ft.status, ft.body)
					return
				}
			}
			h(w, r)
		})
	}
	route(routeGetIssuePath, func(w http.ResponseWriter, r *http.Request) {
		switch a, b := r.PathValue("a"), r.PathValue("b"); {
		case b == "comments":
			r.SetPathValue("number", a)
			f.listComments(w, r)
		case a == "comments":
			r.SetPathValue("id", b)
			f.getComment(w, r)
		default:
			writeJSON(w, http.StatusNotFound, gh.ErrorResponse{Message: "Not Found"})
		}
	})
	route(routeCreateComment, f.createComment)
	route(routeEditComment, f.editComment)
	route(routeDeleteComment, f.deleteComment)
	route(routeListPulls, f.listPulls)
	route(routeCreatePull, f.createPull)
	route(routeEditPull, f.editPull)
	route(routeReviewers, f.requestReviewers)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a Client for the fake that records its waits.
func (f *fakeGitHub) client(t *testing.T) (*Client, *[]time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var waits []time.Duration
	c, err := New(Options{
		APIURL: f.srv.URL + "/api/v3", Token: testToken, HTTPClient: f.srv.Client(),
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, d)
			return nil
		},
		Now: func() time.Time { return time.Unix(1_700_000_000, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, &waits
}

func (f *fakeGitHub) addFault(ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &ft)
}

// seedComment adds a comment as if an earlier run or a person wrote it.
func (f *fakeGitHub) seedComment(pr int, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addComment(pr, body).GetID()
}

func (f *fakeGitHub) addComment(pr int, body string) *gh.IssueComment {
	f.nextID++
	f.clock = f.clock.Add(time.Minute)
	id := f.nextID
	c := &gh.IssueComment{
		ID: &id, Body: gh.Ptr(body), CreatedAt: &gh.Timestamp{Time: f.clock},
		HTMLURL: gh.Ptr(fmt.Sprintf("https://github.example/%s/pull/%d#issuecomment-%d", testRepo, pr, id)),
	}
	f.comments[pr] = append(f.comments[pr], c)
	return c
}

func (f *fakeGitHub) commentsOf(pr int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[pr] {
		out = append(out, c.GetBody())
	}
	return out
}

// requestLog returns "METHOD path" of every request so far.
func (f *fakeGitHub) requestLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, gh.ErrorResponse{Message: "Problems parsing JSON"})
		return false
	}
	return true
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	pr, _ := strconv.Atoi(r.PathValue("number"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, per = max(page, 1), min(max(per, 1), 100)
	if r.URL.Query().Get("per_page") == "" {
		per = 30
	}
	all := f.comments[pr]
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	if hi < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, f.srv.URL, r.URL.Path, page+1, per))
	}
	writeJSON(w, http.StatusOK, append([]*gh.IssueComment{}, all[lo:hi]...))
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	pr, _ := strconv.Atoi(r.PathValue("number"))
	var in gh.IssueComment
	if !decode(w, r, &in) {
		return
	}
	if len(in.GetBody()) > MaxBodyLength {
		writeJSON(w, http.StatusUnprocessableEntity, gh.ErrorResponse{Message: "Validation Failed", Errors: []gh.Error{{Message: "body is too long (maximum is 65536 characters)"}}})
		return
	}
	writeJSON(w, http.StatusCreated, f.addComment(pr, in.GetBody()))
}

func (f *fakeGitHub) editComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in gh.IssueComment
	if !decode(w, r, &in) {
		return
	}
	for _, cs := range f.comments {
		for _, c := range cs {
			if c.GetID() == id {
				c.Body = in.Body
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, gh.ErrorResponse{Message: "Not Found"})
}

func (f *fakeGitHub) getComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, cs := range f.comments {
		for _, c := range cs {
			if c.GetID() == id {
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, gh.ErrorResponse{Message: "Not Found"})
}

func (f *fakeGitHub) deleteComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for pr, cs := range f.comments {
		for i, c := range cs {
			if c.GetID() == id {
				f.comments[pr] = append(cs[:i:i], cs[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, gh.ErrorResponse{Message: "Not Found"})
}

func (f *fakeGitHub) pullJSON(p *gh.PullRequest) *gh.PullRequest {
	out := *p
	if !f.hideAuthor {
		out.User = &gh.User{Login: gh.Ptr(f.prAuthor)}
	}
	return &out
}

func (f *fakeGitHub) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []*gh.PullRequest{}
	for _, p := range f.pulls {
		if (q.Get("state") == "" || q.Get("state") == p.GetState()) &&
			(q.Get("head") == "" || q.Get("head") == p.GetHead().GetLabel()) &&
			(q.Get("base") == "" || q.Get("base") == p.GetBase().GetRef()) {
			out = append(out, f.pullJSON(p))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) createPull(w http.ResponseWriter, r *http.Request) {
	var in gh.NewPullRequest
	if !decode(w, r, &in) {
		return
	}
	label := r.PathValue("owner") + ":" + in.GetHead()
	for _, p := range f.pulls {
		if p.GetState() == "open" && p.GetHead().GetLabel() == label && p.GetBase().GetRef() == in.GetBase() {
			writeJSON(w, http.StatusUnprocessableEntity, gh.ErrorResponse{Message: "Validation Failed", Errors: []gh.Error{{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for " + label + "."}}})
			return
		}
	}
	n := len(f.pulls) + 1
	p := &gh.PullRequest{
		Number: gh.Ptr(n), State: gh.Ptr("open"), Title: in.Title, Body: in.Body,
		HTMLURL: gh.Ptr(fmt.Sprintf("https://github.example/%s/pull/%d", testRepo, n)),
		Head:    &gh.PullRequestBranch{Ref: in.Head, Label: gh.Ptr(label)},
		Base:    &gh.PullRequestBranch{Ref: in.Base},
	}
	f.pulls = append(f.pulls, p)
	writeJSON(w, http.StatusCreated, f.pullJSON(p))
}

func (f *fakeGitHub) editPull(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	if n < 1 || n > len(f.pulls) {
		writeJSON(w, http.StatusNotFound, gh.ErrorResponse{Message: "Not Found"})
		return
	}
	var in gh.PullRequest
	if !decode(w, r, &in) {
		return
	}
	p := f.pulls[n-1]
	if in.Title != nil {
		p.Title = in.Title
	}
	if in.Body != nil {
		p.Body = in.Body
	}
	writeJSON(w, http.StatusOK, f.pullJSON(p))
}

func (f *fakeGitHub) requestReviewers(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	var in gh.ReviewersRequest
	if !decode(w, r, &in) {
		return
	}
	for _, login := range in.Reviewers {
		if login == f.prAuthor {
			writeJSON(w, http.StatusUnprocessableEntity, gh.ErrorResponse{Message: "Review cannot be requested from pull request author."})
			return
		}
	}
	f.reviewers[n] = append(f.reviewers[n], in.Reviewers...)
	writeJSON(w, http.StatusCreated, f.pullJSON(f.pulls[n-1]))
}
