package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/google/go-cmp/cmp"
)

// These tests check the contract with the Databricks CLI that
// docs/comparison.md describes: the bytes of the state, lock and metadata
// files brickci writes against goldens in testdata/contract (written from
// the CLI's formats: bundle/direct/dstate, bundle/deploy, bundle/metadata,
// bundle/deploy/lock), and that a deploy by the CLI after one by brickci
// leaves nothing for brickci to change.

const cliVersion = "0.281.0"

// cliJobSettings is what the Databricks CLI sends for a job of demoBundle:
// the bundle's settings with the CLI's defaults (max_concurrent_runs 1,
// queueing on; resourcemutator's applyInitializeMutators), the deployment
// stamp, UI lock and multi-task format (metadata.AnnotateJobs), and job
// references resolved. It is written out here, not derived from the code
// under test, so that the test fails when brickci's defaults drift.
func cliJobSettings(t *testing.T, b *bundle.Bundle, key string, ids map[string]int64) jobs.JobSettings {
	t.Helper()
	cfg := map[string]any{}
	raw, err := json.Marshal(b.Jobs[key].Config)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for k, id := range ids {
		text = strings.ReplaceAll(text, `"${resources.jobs.`+k+`.id}"`, strconv.FormatInt(id, 10))
	}
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg["max_concurrent_runs"]; !ok {
		cfg["max_concurrent_runs"] = 1
	}
	if _, ok := cfg["queue"]; !ok {
		cfg["queue"] = map[string]any{"enabled": true}
	}
	cfg["deployment"] = map[string]any{"kind": "BUNDLE", "metadata_file_path": b.Workspace.StatePath + "/metadata.json"}
	cfg["edit_mode"] = "UI_LOCKED"
	cfg["format"] = "MULTI_TASK"
	raw, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s jobs.JobSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// cliDeploy does what a deploy by the Databricks CLI of an unchanged bundle
// does to jobs after brickci deployed them: it resets every job with the
// CLI's settings and records them in resources.json under its own version.
func cliDeploy(t *testing.T, ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, ids map[string]int64) {
	t.Helper()
	st, err := readState(ctx, sdkFS{w}, b.Workspace.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	for key, id := range ids {
		s := cliJobSettings(t, b, key, ids)
		if err := w.Jobs.Reset(ctx, jobs.ResetJob{JobId: id, NewSettings: s}); err != nil {
			t.Fatal(err)
		}
		norm, err := normalise(s)
		if err != nil {
			t.Fatal(err)
		}
		e := st.resources.State[addr("jobs", key)]
		e.State = norm
		st.resources.State[addr("jobs", key)] = e
	}
	st.resources.CLIVersion = cliVersion
	data, err := json.MarshalIndent(st.resources, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := (sdkFS{w}).write(ctx, b.Workspace.StatePath+"/"+resourcesFile, data, "", true); err != nil {
		t.Fatal(err)
	}
}

// TestCLIDeployAfterBrickciIsNoChange deploys with brickci, redeploys the
// same bundle the way the CLI does, and plans with brickci: nothing may
// change, neither in state nor in the workspace.
func TestCLIDeployAfterBrickciIsNoChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, dir, _ := demoCheckout(t)
	b.Jobs["train"].Config["schedule"] = map[string]any{"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"}
	files := func() []localFile { return listFiles(t, dir, b.Workspace.FilePath) }
	res, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for key, id := range res.JobIDs {
		got := srv.Jobs(testToken)[id]
		if got.MaxConcurrentRuns != 1 || got.Queue == nil || !got.Queue.Enabled {
			t.Errorf("job %s deployed without the CLI's defaults: max_concurrent_runs %d, queue %+v", key, got.MaxConcurrentRuns, got.Queue)
		}
	}

	cliDeploy(t, ctx, w, b, res.JobIDs)
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Resources {
		if r.Action != Unchanged {
			t.Errorf("after a CLI deploy, brickci plans %s with %+v; want unchanged", r.describe(), r.Fields)
		}
	}
	if err := plan.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(plan.Drift) > 0 {
		t.Errorf("after a CLI deploy, refresh reports drift: %+v", plan.Drift)
	}
	before := len(srv.Requests())
	again, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || countPath(requestsSince(srv, before), "/jobs/reset") != 0 {
		t.Errorf("brickci redeploy after the CLI changed something: changed %v", again.Changed)
	}
}

// TestDefaultsOnlyWhereUnset checks that the CLI's defaults never replace
// a value the bundle sets and that nested defaults need their parent.
func TestDefaultsOnlyWhereUnset(t *testing.T) {
	t.Parallel()
	b := demoBundle(t.TempDir())
	j := &bundle.Job{Key: "j", Config: map[string]any{
		"max_concurrent_runs": 4,
		"queue":               map[string]any{"enabled": false},
		"schedule":            map[string]any{"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC"},
		"trigger":             map[string]any{"pause_status": "PAUSED", "periodic": map[string]any{"interval": 1, "unit": "HOURS"}},
		"job_clusters": []any{
			map[string]any{"job_cluster_key": "a", "new_cluster": map[string]any{"spark_version": "15.4.x-scala2.12", "workload_type": map[string]any{"clients": map[string]any{"jobs": false}}}},
			map[string]any{"job_cluster_key": "b", "new_cluster": map[string]any{"spark_version": "15.4.x-scala2.12"}},
		},
	}}
	_, norm, err := jobSettings(b, j, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(norm, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "contract/job_defaults.json", string(got)+"\n")
	if _, ok := norm["continuous"]; ok {
		t.Error("a default created continuous, which the bundle does not set")
	}
}

// contractBundle is demoBundle with what metadata.json records: mode, git
// and the files defining the jobs.
func contractBundle(dir string) *bundle.Bundle {
	b := demoBundle(dir)
	b.Mode = "production"
	b.Git = bundle.Git{OriginURL: "https://github.com/example/demo.git", Branch: "main", ActualBranch: "main", Commit: "0123456789abcdef0123456789abcdef01234567", BundleRootPath: ".", Inferred: true}
	b.Jobs["train"].Location = bundle.Location{File: filepath.Join(dir, "resources", "train.yml"), Line: 3, Column: 5}
	b.Jobs["orchestrate"].Location = bundle.Location{File: filepath.Join(dir, "databricks.yml"), Line: 9, Column: 5}
	return b
}

// TestStateFilesMatchCLIFormat deploys and compares resources.json,
// deployment.json and metadata.json byte for byte with the goldens.
func TestStateFilesMatchCLIFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := contractBundle(dir)
	res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	remote := srv.Files(testToken)
	state := "/Users/me@example.com/.bundle/demo/staging/state/"
	for _, name := range []string{resourcesFile, deploymentFile, metadataFile} {
		data, ok := remote[state+name]
		if !ok {
			t.Fatalf("%s not written", name)
		}
		golden(t, "contract/"+name, normaliseIDs(string(data), res.JobIDs))
	}
}

// TestLockFileMatchesCLIFormat compares the bytes of deploy.lock with the
// golden: the CLI's lock.Lock fields, as its filer writes them.
func TestLockFileMatchesCLIFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	opts := testOptions()
	l := &locker{fs: sdkFS{w}, statePath: testRoot + "/state", id: opts.NewID(), user: testUser, now: opts.Now, sleep: throttle.Sleep}
	if err := l.acquire(ctx, false, 0, opts.LockPoll, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "contract/deploy.lock", string(srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/state/deploy.lock"])+"\n")
}

// TestReadsStateVersion1 plans against a resources.json at state version 1
// (permissions as permission_level), as brickci and older CLIs wrote it:
// nothing changes, and the next write is version 2.
func TestReadsStateVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := demoCheckout(t)
	res, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(filepath.Join("testdata", "contract", "resources_v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(v1)
	for k, id := range res.JobIDs {
		text = strings.ReplaceAll(text, "<id:"+k+">", strconv.FormatInt(id, 10))
	}
	if err := (sdkFS{w}).write(ctx, testRoot+"/state/"+resourcesFile, []byte(text), "", true); err != nil {
		t.Fatal(err)
	}
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Resources {
		if r.Action != Unchanged {
			t.Errorf("state version 1: %s with %+v; want unchanged", r.describe(), r.Fields)
		}
	}
	b.Jobs["train"].Config["description"] = "v2"
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	var got ResourcesState
	if err := json.Unmarshal(srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/state/resources.json"], &got); err != nil {
		t.Fatal(err)
	}
	perms := got.State["resources.jobs.train.permissions"].State
	if got.StateVersion != 2 || perms["permissions"] != nil || perms[permsKey] == nil {
		t.Errorf("state after a write: version %d, permissions entry %v; want version 2 with __embed__", got.StateVersion, perms)
	}
	if e := got.State["resources.vector_search_endpoints.etl"]; e.ID != "etl" || e.State["endpoint_type"] != "STANDARD" {
		t.Errorf("the vector search endpoint the CLI deployed (a type brickci does not deploy) was not kept in state: %+v", e)
	}
}

// TestRefusesNewerState checks that brickci reads no state it would
// misunderstand and so overwrite.
func TestRefusesNewerState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, state, want string
	}{
		{"version 4", `{"state_version": 4, "state": {}}`, "state version 4 is newer than the version 2 brickci reads; upgrade brickci"},
		{"features", `{"state_version": 3, "features": {"b": {}, "a": {}}, "state": {}}`, "the state depends on features brickci does not support: a, b"},
		{"deployment", ``, "deployment.json in \"" + testRoot + "/state\" has version 2, newer than the version 1 brickci reads; upgrade brickci"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, w := newServer(t, nil)
			fs := sdkFS{w}
			if err := fs.mkdirs(ctx, testRoot+"/state"); err != nil {
				t.Fatal(err)
			}
			if tc.state != "" {
				if err := fs.write(ctx, testRoot+"/state/"+resourcesFile, []byte(tc.state), "", true); err != nil {
					t.Fatal(err)
				}
			} else if err := fs.write(ctx, testRoot+"/state/"+deploymentFile, []byte(`{"version": 2, "seq": 3}`), "", true); err != nil {
				t.Fatal(err)
			}
			_, err := readState(ctx, fs, testRoot+"/state")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestStateVersion3WithoutFeatures reads a state a later CLI wrote at
// version 3 with no features as version 2, and keeps its version.
func TestStateVersion3WithoutFeatures(t *testing.T) {
	t.Parallel()
	rs := ResourcesState{StateVersion: 3, State: map[string]ResourceEntry{}}
	if err := migrateState(&rs); err != nil || rs.StateVersion != 3 {
		t.Errorf("got version %d, %v; want 3, nil", rs.StateVersion, err)
	}
	want := ResourcesState{StateVersion: 2, State: map[string]ResourceEntry{
		"resources.jobs.a.permissions": {ID: "/jobs/1", State: map[string]any{"object_id": "/jobs/1", permsKey: []any{map[string]any{"level": "IS_OWNER", "user_name": "u"}}},
			DependsOn: []DependsOn{{Node: "resources.jobs.a", Label: "${resources.jobs.a.id}"}}},
	}}
	old := ResourcesState{StateVersion: 0, State: map[string]ResourceEntry{
		"resources.jobs.a.permissions": {ID: "/jobs/1", State: map[string]any{"object_id": "/jobs/1", "permissions": []any{map[string]any{"permission_level": "IS_OWNER", "user_name": "u"}}}},
	}}
	if err := migrateState(&old); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, old); diff != "" {
		t.Errorf("migration from a state without a version (-want +got):\n%s", diff)
	}
}

// cliSyncFiles deploys files the way the Databricks CLI does on a machine
// without its sync snapshot: every file through the workspace-files API
// (notebooks with their extension; the workspace strips it), then a
// deployment.json listing the files without hashes.
func cliSyncFiles(t testing.TB, ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []localFile, seq int) {
	t.Helper()
	c, err := client.New(w.Config)
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	for _, f := range files {
		dirs[path.Dir(path.Join(b.Workspace.FilePath, f.Rel))] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := w.Workspace.MkdirsByPath(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	err = forEachParallel(ctx, 8, files, func(ctx context.Context, f localFile) error {
		data, err := os.ReadFile(f.Abs)
		if err != nil {
			return err
		}
		p := strings.TrimLeft(path.Join(b.Workspace.FilePath, f.Rel), "/")
		return c.Do(ctx, http.MethodPost, "/api/2.0/workspace-files/import-file/"+url.PathEscape(p)+"?overwrite=true", nil, nil, data, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	for _, f := range files {
		list = append(list, map[string]any{"local_path": f.Rel, "is_notebook": f.Notebook})
	}
	ds, err := json.Marshal(map[string]any{"version": 1, "seq": seq, "cli_version": cliVersion, "timestamp": fixedNow, "files": list, "id": "11111111-2222-3333-4444-555555555555"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Workspace.MkdirsByPath(ctx, b.Workspace.StatePath); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, http.MethodPost, "/api/2.0/workspace-files/import-file/"+url.PathEscape(strings.TrimLeft(b.Workspace.StatePath+"/"+deploymentFile, "/"))+"?overwrite=true", nil, nil, ds, nil); err != nil {
		t.Fatal(err)
	}
}

// TestHandoffFromCLIUploadsOnlyWhatDiffers deploys with brickci, lets the
// CLI deploy the files again, and checks that brickci's next deploy
// uploads only the file edited since, uses one export to know, and that
// the deploy after that needs no export at all.
func TestHandoffFromCLIUploadsOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, dir, files := demoCheckout(t)
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	cliSyncFiles(t, ctx, w, b, files(), 2)
	// The CLI stored the notebooks without their extension, as brickci does.
	if _, ok := srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/files/notebooks/train.py"]; ok {
		t.Fatal("the workspace kept a notebook uploaded by the CLI under its extension")
	}
	writeTree(t, dir, map[string]string{"src/rag/util.py": "def f():\n    return 2\n"})
	// A file the workspace holds with other content than the local one
	// must be uploaded even though the CLI listed it.
	if err := (sdkFS{w}).write(ctx, b.Workspace.FilePath+"/src/rag/data/chunks.txt", []byte("stale\n"), "", true); err != nil {
		t.Fatal(err)
	}

	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"src/rag/data/chunks.txt", "src/rag/util.py"}, plan.Files.Changed); diff != "" || plan.Files.Unchanged != 3 {
		t.Errorf("plan after a CLI deploy: changed (-want +got):\n%s unchanged %d, want 3", diff, plan.Files.Unchanged)
	}
	before := len(srv.Requests())
	res, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	reqs := requestsSince(srv, before)
	// A deploy with work reads lock and state without the lock, then
	// again under it, and the lock before releasing it: seven exports; the
	// hand-off adds one, of the file path.
	if res.Uploaded != 2 || countPath(reqs, "/workspace/export") != 8 {
		t.Errorf("hand-off deploy uploaded %d files with %d exports; want 2 uploads and 8 exports", res.Uploaded, countPath(reqs, "/workspace/export"))
	}
	if got := string(srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/files/src/rag/data/chunks.txt"]); got != demoFiles["src/rag/data/chunks.txt"] {
		t.Errorf("stale workspace file not replaced: %q", got)
	}
	before = len(srv.Requests())
	res, err = applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if reqs := requestsSince(srv, before); res.Changed || len(reqs) != 3 || countPath(reqs, "/workspace/export") != 3 {
		t.Errorf("deploy after the hand-off: changed %v, %d requests: %v; want no change and the 3 exports of lock and state", res.Changed, len(reqs), requestLines(reqs))
	}
}

// TestHandoffWithoutChangesRecordsSnapshot checks that a hand-off with
// nothing to upload still replaces the CLI's snapshot with brickci's.
func TestHandoffWithoutChangesRecordsSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, listed := demoCheckout(t)
	files := listed()
	if _, err := applyFiles(ctx, w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}
	cliSyncFiles(t, ctx, w, b, files, 2)
	res, err := applyFiles(ctx, w, b, files, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var ds DeploymentState
	if err := json.Unmarshal(srv.Files(testToken)["/Users/me@example.com/.bundle/demo/staging/state/deployment.json"], &ds); err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 0 || ds.Seq != 3 || foreignSnapshot(ds) || ds.CLIVersion != "brickci/"+Version {
		t.Errorf("uploaded %d, deployment.json seq %d, foreign %v, cli_version %q; want 0, 3, false, brickci's", res.Uploaded, ds.Seq, foreignSnapshot(ds), ds.CLIVersion)
	}
}

// TestExportHashesDescendsIntoLargeDirectories checks that a file path too
// large for one export is exported directory by directory, and that the
// files directly in it are left unverified.
func TestExportHashesDescendsIntoLargeDirectories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, w := newServer(t, nil)
	fs := sdkFS{w}
	const dir = testRoot + "/files"
	// Random bytes, so that the archive cannot compress them below the
	// export limit.
	raw := make([]byte, 6<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(raw)
	big := string(raw)
	for _, d := range []string{dir + "/a", dir + "/b"} {
		if err := fs.mkdirs(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range map[string]string{dir + "/a/big": big, dir + "/b/big": big + "y", dir + "/top.txt": "top"} {
		if err := fs.write(ctx, p, []byte(content), "", true); err != nil {
			t.Fatal(err)
		}
	}
	hashes := map[string]string{}
	var st handoffStats
	if err := exportHashes(ctx, w, dir, hashes, &st); err != nil {
		t.Fatal(err)
	}
	if st.Exports != 3 || len(hashes) != 2 || hashes[dir+"/a/big"] != sha(big) || hashes[dir+"/b/big"] != sha(big+"y") {
		t.Errorf("exports %d, hashes %v; want 3 exports and the two large files", st.Exports, slices.Sorted(maps.Keys(hashes)))
	}
}

// TestHashArchiveSkipsUnsafeEntries checks that entries escaping the
// directory are ignored and that a body that is no archive verifies
// nothing.
func TestHashArchiveSkipsUnsafeEntries(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"ok.txt", "../escape.txt", "/abs.txt", "sub/"} {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte("data"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	if err := hashArchive(buf.Bytes(), "/d", hashes); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/d/ok.txt": sha("data")}, hashes); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	hashes = map[string]string{}
	if err := hashArchive([]byte("not a zip"), "/d", hashes); err != nil || len(hashes) != 0 {
		t.Errorf("a body that is no archive gave %v, %v", hashes, err)
	}
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestApplyDefaultsByGroup checks the defaults of the resource types
// brickci does not deploy yet, which their adapters apply the same way.
func TestApplyDefaultsByGroup(t *testing.T) {
	t.Parallel()
	cases := []struct {
		group   string
		in, out map[string]any
	}{
		{"pipelines", map[string]any{"name": "p"}, map[string]any{"name": "p", "edition": "ADVANCED", "channel": "CURRENT"}},
		{"pipelines", map[string]any{"edition": "CORE"}, map[string]any{"edition": "CORE", "channel": "CURRENT"}},
		{"volumes", map[string]any{}, map[string]any{"volume_type": "MANAGED"}},
		{"clusters", map[string]any{"workload_type": map[string]any{"clients": map[string]any{}}}, map[string]any{
			"autotermination_minutes": 60, "workload_type": map[string]any{"clients": map[string]any{"notebooks": true, "jobs": true}},
		}},
		{"clusters", map[string]any{"autotermination_minutes": 0}, map[string]any{"autotermination_minutes": 0}},
		{"experiments", map[string]any{"name": "e"}, map[string]any{"name": "e"}},
	}
	for _, tc := range cases {
		applyDefaults(tc.group, tc.in)
		if diff := cmp.Diff(tc.out, tc.in); diff != "" {
			t.Errorf("%s defaults (-want +got):\n%s", tc.group, diff)
		}
	}
}
