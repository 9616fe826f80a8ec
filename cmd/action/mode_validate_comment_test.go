package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeComments is the part of the GitHub REST API a living comment uses.
type fakeComments struct {
	mu       sync.Mutex
	comments map[int64]string // id → body, on pull request 7 of o/r
	nextID   int64
	forbid   bool
}

func (f *fakeComments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	var in struct {
		Body string `json:"body"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	if f.forbid && r.Method != http.MethodGet {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message": "Resource not accessible by integration"}`)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "/repos/o/r/issues/7/comments":
		var out []map[string]any
		for id, body := range f.comments {
			out = append(out, map[string]any{"id": id, "body": body, "html_url": fmt.Sprintf("https://github.example/c/%d", id)})
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && path == "/repos/o/r/issues/7/comments":
		f.nextID++
		f.comments[f.nextID] = in.Body
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": f.nextID, "body": in.Body, "html_url": fmt.Sprintf("https://github.example/c/%d", f.nextID)})
	case (r.Method == http.MethodGet || r.Method == http.MethodDelete) && strings.HasPrefix(path, "/repos/o/r/issues/comments/"):
		var id int64
		fmt.Sscanf(strings.TrimPrefix(path, "/repos/o/r/issues/comments/"), "%d", &id)
		body, ok := f.comments[id]
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "Not Found"}`)
		case r.Method == http.MethodDelete:
			delete(f.comments, id)
			w.WriteHeader(http.StatusNoContent)
		default:
			json.NewEncoder(w).Encode(map[string]any{"id": id, "body": body, "html_url": fmt.Sprintf("https://github.example/c/%d", id)})
		}
	case r.Method == http.MethodPatch && strings.HasPrefix(path, "/repos/o/r/issues/comments/"):
		var id int64
		fmt.Sscanf(strings.TrimPrefix(path, "/repos/o/r/issues/comments/"), "%d", &id)
		if _, ok := f.comments[id]; !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		f.comments[id] = in.Body
		json.NewEncoder(w).Encode(map[string]any{"id": id, "body": in.Body, "html_url": fmt.Sprintf("https://github.example/c/%d", id)})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message": "unexpected %s %s"}`, r.Method, path)
	}
}

func prEnv(t *testing.T, api string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"number": 7, "pull_request": {"number": 7, "head": {"repo": {"full_name": "o/r"}}, "base": {"repo": {"full_name": "o/r"}}}}`), 0o644)
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event,
		"GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": api + "/api/v3", "GITHUB_TOKEN": "ghs_sentinel",
		"GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "99",
		"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
}

// Two validate runs on one pull request leave exactly one comment, whose
// body reflects the second run; a failing validate still updates it.
func TestValidateCommentIsUpdatedInPlace(t *testing.T) {
	t.Parallel()
	api := &fakeComments{comments: map[int64]string{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	env := prEnv(t, srv.URL)

	code, _, stderr := runValidate(t, env, "--bundle", goodBundle, "-t", "staging", "--comment")
	if code != 0 || !strings.Contains(stderr, "the validate section of the bundle comment on pull request #7") {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runValidate(t, env, "--bundle", "../../internal/bundle/testdata/bad/dependency-cycle", "--comment")
	if code != 1 {
		t.Fatalf("second run: exit %d, want 1\n%s", code, stderr)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.comments) != 1 {
		t.Fatalf("%d comments, want 1: %v", len(api.comments), api.comments)
	}
	body := api.comments[1]
	if !strings.HasPrefix(body, "<!-- brickci:bundle -->\n<!-- brickci-section:validate -->") || !strings.Contains(body, "depend on each other in a cycle") || !strings.Contains(body, "https://github.example/o/r/actions/runs/99") {
		t.Errorf("comment does not reflect the failing run:\n%s", body)
	}
	if strings.Contains(body, "ghs_sentinel") {
		t.Error("token in the comment")
	}
}

// Without permission to comment, validate keeps its own result, says why in
// one line and leaves the result in the step summary.
func TestValidateCommentForbiddenFallsBackToSummary(t *testing.T) {
	t.Parallel()
	api := &fakeComments{comments: map[int64]string{}, forbid: true}
	srv := httptest.NewServer(api)
	defer srv.Close()
	env := prEnv(t, srv.URL)
	code, _, stderr := runValidate(t, env, "--bundle", goodBundle, "-t", "staging", "--comment")
	if code != 0 {
		t.Fatalf("exit %d, want 0: a missing permission must not fail the check\n%s", code, stderr)
	}
	if n := strings.Count(stderr, `could not comment on pull request #7: the token lacks "pull-requests: write"`); n != 1 {
		t.Errorf("want one line naming the permission, got %d:\n%s", n, stderr)
	}
	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if err != nil || !strings.Contains(string(summary), "mlops_demo") {
		t.Errorf("summary lacks the result: %v\n%s", err, summary)
	}
}

// The pipeline spec's release jobs must exist in the bundle's prod target.
func TestValidateCrossChecksPipelineSpec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(spec, []byte("project: demo\nbundle: b\ntargets:\n  staging: {environment: s, auth: {type: pat, token-secret: S}}\n  prod: {environment: p, auth: {type: pat, token-secret: P}}\n  qa: {environment: q, auth: {type: pat, token-secret: Q}}\nrelease:\n  run: [nightly_report]\n"), 0o644)
	code, stdout, stderr := runValidate(t, nil, "--bundle", goodBundle, "-t", "prod", "--spec", spec)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{spec + ":6:3:", spec + ":8:9:", `"qa"`, `"nightly_report"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runValidate(t, nil, "--bundle", goodBundle, "--spec", filepath.Join(dir, "none.yaml")); code != 2 || !strings.Contains(stderr, "does not exist") {
		t.Errorf("missing explicit spec: exit %d %s", code, stderr)
	}
}
