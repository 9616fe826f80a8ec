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

	"github.com/brickci/brickci/internal/bundle"
)

func TestLockHeldByAnotherUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, dir, _ := demoCheckout(t)
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
	// hitReq is the request whose answer was dropped: method and URL.
	hitReq string
}

func (r *interruptAt) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen++
	hit := r.seen == r.n
	r.mu.Unlock()
	resp, err := r.next.RoundTrip(req)
	if hit {
		r.mu.Lock()
		r.hitReq = req.Method + " " + req.URL.String()
		r.mu.Unlock()
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
	b, _, listed := demoCheckout(t)
	files := listed()

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
		// A request the client gave up on may still be carried out.
		if !srv.WaitIdle(5 * time.Second) {
			t.Fatalf("request %d: the emulator is still busy after the interrupted deploy", n)
		}
		// Only a lost answer to the lock's read before its release may
		// pass unnoticed: the release is retried without the cancelled
		// context. Which request number that is varies, as the last
		// write and the release read are sent together.
		if err == nil && !(strings.HasPrefix(rt.hitReq, http.MethodGet+" ") && strings.Contains(rt.hitReq, "deploy.lock")) {
			t.Errorf("request %d (%s): interrupted deploy reported success", n, rt.hitReq)
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
			t.Errorf("request %d (%s): remote state differs from a clean deploy (-want +got):\n%s", n, rt.hitReq, diff)
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

// dropAnswer forwards requests and, for the first one match accepts,
// cancels the deploy and drops the answer: the server created the job but
// the client never learns its id.
type dropAnswer struct {
	next    http.RoundTripper
	match   func(*http.Request) bool
	cancel  context.CancelFunc
	mu      sync.Mutex
	dropped bool
}

func (r *dropAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	hit := !r.dropped && r.match(req)
	r.dropped = r.dropped || hit
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

// TestLostCreateIsAdoptedOnce loses the answer to a job create and deploys
// again: the deploy after it adopts the job recorded as pending, so no job
// exists twice.
func TestLostCreateIsAdoptedOnce(t *testing.T) {
	t.Parallel()
	b, _, listed := demoCheckout(t)
	files := listed()
	ctx, cancel := context.WithCancel(context.Background())
	rt := &dropAnswer{cancel: cancel, match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/jobs/create")
	}}
	srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
	if _, err := applyFiles(ctx, w, b, files, testOptions()); err == nil {
		t.Fatal("deploy whose job create lost its answer reported success")
	}
	cancel()
	if !srv.WaitIdle(5 * time.Second) {
		t.Fatal("the emulator is still busy after the interrupted deploy")
	}
	if n := len(srv.Jobs(testToken)); n == 0 {
		t.Fatal("the lost create made no job")
	}
	if _, err := applyFiles(context.Background(), w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}
	names := jobNames(srv.Jobs(testToken))
	sort.Strings(names)
	if diff := cmp.Diff([]string{"orchestrate", "train"}, names); diff != "" {
		t.Errorf("jobs after the redeploy (-want +got):\n%s", diff)
	}
}

// TestOrphanOfRenamedJobIsDeleted interrupts a first deploy right after
// the create of job "train" (its answer lost), then renames the job's key
// before deploying again: the job created first is not in the bundle any
// more, but it is found by the name it was created with and deleted, so
// neither the next deploy nor destroy leaves an orphan behind. The same
// holds for state written without the names (an older brickci): every
// job of the deployment that state does not know is deleted.
func TestOrphanOfRenamedJobIsDeleted(t *testing.T) {
	t.Parallel()
	for _, withNames := range []bool{true, false} {
		b, _, listed := demoCheckout(t)
		files := listed()
		ctx, cancel := context.WithCancel(context.Background())
		rt := &dropAnswer{cancel: cancel, match: func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/jobs/create")
		}}
		srv, w := newServer(t, func(next http.RoundTripper) http.RoundTripper { rt.next = next; return rt })
		if _, err := applyFiles(ctx, w, b, files, testOptions()); err == nil {
			t.Fatal("interrupted deploy reported success")
		}
		cancel()
		if !srv.WaitIdle(5 * time.Second) {
			t.Fatal("the emulator is still busy after the interrupted deploy")
		}
		if got := jobNames(srv.Jobs(testToken)); len(got) != 1 || got[0] != "train" {
			t.Fatalf("jobs after the interrupted deploy: %q, want [train]", got)
		}
		if !withNames {
			// State as an older brickci wrote it: pending keys only.
			fs := sdkFS{w}
			p := b.Workspace.StatePath + "/" + resourcesFile
			data, err := fs.read(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			if _, ok := raw["brickci_pending_names"]; !ok {
				t.Fatalf("pending names not recorded: %s", data)
			}
			delete(raw, "brickci_pending_names")
			data, _ = json.Marshal(raw)
			if err := fs.write(context.Background(), p, data, "", true); err != nil {
				t.Fatal(err)
			}
		}

		// The next commit renames the job's key and name.
		j := b.Jobs["train"]
		delete(b.Jobs, "train")
		j.Key, j.Config["name"] = "trainer", "trainer"
		b.Jobs["trainer"] = j
		b.Jobs["orchestrate"].Config["tasks"].([]any)[0].(map[string]any)["run_job_task"] = map[string]any{"job_id": "${resources.jobs.trainer.id}"}
		if _, err := applyFiles(context.Background(), w, b, files, testOptions()); err != nil {
			t.Fatal(err)
		}
		got := jobNames(srv.Jobs(testToken))
		sort.Strings(got)
		if diff := cmp.Diff([]string{"orchestrate", "trainer"}, got); diff != "" {
			t.Errorf("names %v: jobs after the redeploy (-want +got):\n%s", withNames, diff)
		}
		if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Jobs(testToken)); n != 0 {
			t.Errorf("names %v: destroy left %d jobs", withNames, n)
		}
	}
}

// TestLateWriteAfterTakeoverIsRecovered puts back, after a newer deploy,
// the resources.json an older deploy wrote (what a deploy killed with a
// write on the wire leaves after a --force-lock takeover). The next deploy
// sees that it is older than what deployment.json records, continues the
// serial from there, finds the newer deploy's job by name instead of
// creating it again, and destroy then leaves nothing behind.
func TestLateWriteAfterTakeoverIsRecovered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _, listed := demoCheckout(t)
	files := listed()
	srv, w := newServer(t, nil)
	fs := sdkFS{w}
	statePath := b.Workspace.StatePath + "/" + resourcesFile
	if _, err := applyFiles(ctx, w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}
	old, err := fs.read(ctx, statePath)
	if err != nil {
		t.Fatal(err)
	}
	b.Jobs["evaluate"] = &bundle.Job{Key: "evaluate", Config: map[string]any{"name": "evaluate",
		"tasks": []any{map[string]any{"task_key": "eval", "notebook_task": map[string]any{"notebook_path": testRoot + "/files/notebooks/eval"}}}}}
	if _, err := applyFiles(ctx, w, b, files, Options{ForceLock: true, Now: testOptions().Now, NewID: testOptions().NewID}); err != nil {
		t.Fatal(err)
	}
	newer, err := readState(ctx, fs, b.Workspace.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.write(ctx, statePath, old, "", true); err != nil {
		t.Fatal(err)
	}

	if _, err := applyFiles(ctx, w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}
	got := jobNames(srv.Jobs(testToken))
	sort.Strings(got)
	if diff := cmp.Diff([]string{"evaluate", "orchestrate", "train"}, got); diff != "" {
		t.Errorf("jobs after the deploy that found the late write (-want +got):\n%s", diff)
	}
	after, err := readState(ctx, fs, b.Workspace.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if after.resources.Serial <= newer.resources.Serial {
		t.Errorf("serial went from %d to %d; it must only rise", newer.resources.Serial, after.resources.Serial)
	}
	if err := Destroy(ctx, w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Jobs(testToken)); n != 0 {
		t.Errorf("destroy left %d jobs", n)
	}
}
