package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/google/go-cmp/cmp"
)

func TestLockHeldByAnotherUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := demoBundle(dir)
	fs := sdkFS{w}
	if err := fs.mkdirs(ctx, b.Workspace.StatePath); err != nil {
		t.Fatal(err)
	}
	held, _ := json.Marshal(lockInfo{ID: "other", AcquisitionTime: fixedNow.Add(-12 * time.Minute), User: "alice@example.com"})
	if err := fs.write(ctx, b.Workspace.StatePath+"/deploy.lock", held, "", false); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.LockTimeout = 30 * time.Millisecond
	before := len(srv.Requests())
	_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
	want := "deploy lock held by alice@example.com since 2026-11-27T09:48:00Z (12m0s ago); rerun with --force-lock to take it over"
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}
	var lh *LockHeldError
	if !errors.As(err, &lh) || lh.User != "alice@example.com" {
		t.Errorf("error is not a LockHeldError naming the holder: %#v", err)
	}
	if n := countPath(requestsSince(srv, before), "/workspace/import"); n < 2 {
		t.Errorf("made %d lock attempts, want it to wait and retry", n)
	}
	if len(srv.Jobs(testToken)) != 0 {
		t.Error("deployed without the lock")
	}
	if got, _ := fs.read(ctx, b.Workspace.StatePath+"/deploy.lock"); string(got) != string(held) {
		t.Errorf("someone else's lock was changed: %s", got)
	}

	opts.ForceLock = true
	res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
	if err != nil {
		t.Fatalf("forced deploy: %v", err)
	}
	if len(res.JobIDs) != 2 {
		t.Errorf("forced deploy created %d jobs, want 2", len(res.JobIDs))
	}
	if _, err := fs.read(ctx, b.Workspace.StatePath+"/deploy.lock"); !isNotFound(err) {
		t.Errorf("lock not released after a forced deploy: %v", err)
	}
}

// interruptAt forwards requests and cancels the deploy's context as soon as
// request n has been answered, dropping that answer: the server did the
// work but the client never learns it.
type interruptAt struct {
	next   http.RoundTripper
	n      int
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   int
}

func (r *interruptAt) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen++
	hit := r.seen == r.n
	r.mu.Unlock()
	resp, err := r.next.RoundTrip(req)
	if hit {
		r.cancel()
		if resp != nil {
			resp.Body.Close()
		}
		return nil, context.Canceled
	}
	return resp, err
}

// remoteSnapshot is the remote state that must converge: files by path and
// jobs by name (ids differ between runs), with job ids in settings blanked.
func remoteSnapshot(t *testing.T, srv interface {
	Files(string) map[string][]byte
}, jobNames []string) map[string]string {
	out := map[string]string{}
	for p, c := range srv.Files(testToken) {
		if strings.HasSuffix(p, "/state/deployment.json") || strings.HasSuffix(p, "/state/resources.json") || strings.HasSuffix(p, "/state/metadata.json") {
			out[p] = "(state)"
			continue
		}
		out[p] = string(c)
	}
	sort.Strings(jobNames)
	out["jobs"] = strings.Join(jobNames, ",")
	return out
}

// TestInterruptedDeployConverges interrupts a first deploy at every request
// in turn and checks that deploying again reaches the same remote state as
// one clean deploy, with the lock released and no duplicate job.
func TestInterruptedDeployConverges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := demoBundle(dir)
	files := listFiles(t, dir, b.Workspace.FilePath)

	clean, w := newServer(t, nil)
	if _, err := applyFiles(context.Background(), w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}
	total := len(clean.Requests())
	want := remoteSnapshot(t, clean, jobNames(clean.Jobs(testToken)))
	for n := 1; n <= total; n++ {
		ctx, cancel := context.WithCancel(context.Background())
		rt := &interruptAt{n: n, cancel: cancel}
		srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
		_, err := applyFiles(ctx, w, b, files, testOptions())
		cancel()
		if err == nil && n < total-1 { // a lost answer to the release read is retried
			t.Errorf("request %d: interrupted deploy reported success", n)
		}
		for p := range srv.Files(testToken) {
			if strings.HasSuffix(p, "/deploy.lock") {
				t.Errorf("request %d: lock left behind after the interrupted deploy", n)
			}
		}
		rt.n = -1
		if _, err := applyFiles(context.Background(), w, b, files, testOptions()); err != nil {
			t.Fatalf("request %d: redeploy after interruption: %v", n, err)
		}
		got := remoteSnapshot(t, srv, jobNames(srv.Jobs(testToken)))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request %d: remote state differs from a clean deploy (-want +got):\n%s", n, diff)
		}
	}
}

func jobNames(m map[int64]jobs.JobSettings) []string {
	out := make([]string, 0, len(m))
	for _, s := range m {
		out = append(out, s.Name)
	}
	return out
}
