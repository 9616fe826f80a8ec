package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/google/go-cmp/cmp"
)

// benchLatency is the latency the emulator adds to every request in
// benchmarks, about what a CI runner sees talking to a cloud workspace.
const benchLatency = 20 * time.Millisecond

// benchSize describes a generated bundle.
type benchSize struct {
	name  string
	files int // files synced, databricks.yml and resources included
	dirs  int // directories the generated sources are spread over
	jobs  int // jobs, three tasks each
}

var (
	smallBundle = benchSize{name: "small", files: 12, dirs: 2, jobs: 2}
	largeBundle = benchSize{name: "large", files: 2000, dirs: 50, jobs: 100}
)

// writeBenchBundle writes a bundle of size sz into dir: databricks.yml with
// a staging target, resources/jobs.yml and generated sources under
// src/pkgNN, every fourth of them a notebook. Each job runs three tasks
// (two notebooks, then a third notebook or, for every fifth job, a
// run_job_task of the previous job through ${resources.jobs.<key>.id}).
func writeBenchBundle(t testing.TB, dir string, sz benchSize) {
	t.Helper()
	files := map[string]string{
		"databricks.yml": `bundle:
  name: bench
include:
  - resources/*.yml
targets:
  staging:
    mode: production
    workspace:
      host: https://bench.cloud.databricks.com
      root_path: /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}
`,
	}
	sources := sz.files - 2
	var notebooks []string
	for i := range sources {
		d := fmt.Sprintf("src/pkg%02d", i%sz.dirs)
		if i%4 == 0 {
			rel := fmt.Sprintf("%s/nb_%04d.py", d, i)
			files[rel] = fmt.Sprintf("# Databricks notebook source\nprint(%d)\n\n# COMMAND ----------\n\nprint('step two of %d')\n", i, i)
			notebooks = append(notebooks, rel)
			continue
		}
		files[fmt.Sprintf("%s/mod_%04d.py", d, i)] = fmt.Sprintf("def value_%d():\n    return %d\n", i, i)
	}
	var jobs strings.Builder
	jobs.WriteString("resources:\n  jobs:\n")
	for i := range sz.jobs {
		nb := func(k int) string { return "../" + notebooks[(3*i+k)%len(notebooks)] }
		fmt.Fprintf(&jobs, `    job_%03d:
      name: bench-job-%03d
      job_clusters:
        - job_cluster_key: main
          new_cluster:
            spark_version: 15.4.x-scala2.12
            node_type_id: i3.xlarge
            num_workers: 1
      tasks:
        - task_key: prepare
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
        - task_key: train
          depends_on:
            - task_key: prepare
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
`, i, i, nb(0), nb(1))
		if i%5 == 4 {
			fmt.Fprintf(&jobs, `        - task_key: downstream
          depends_on:
            - task_key: train
          run_job_task:
            job_id: ${resources.jobs.job_%03d.id}
`, i-1)
		} else {
			fmt.Fprintf(&jobs, `        - task_key: evaluate
          depends_on:
            - task_key: train
          job_cluster_key: main
          notebook_task:
            notebook_path: %s
`, nb(2))
		}
	}
	files["resources/jobs.yml"] = jobs.String()
	writeTree(t, dir, files)
}

// benchFixture is a generated bundle, loaded as bundle.Load and bundle.Files
// load it, and an emulator to deploy it to.
type benchFixture struct {
	dir   string
	b     *bundle.Bundle
	files []bundle.File
	srv   *emulator.Server
	w     *databricks.WorkspaceClient
}

func newBenchFixture(t testing.TB, sz benchSize) *benchFixture {
	t.Helper()
	dir := t.TempDir()
	writeBenchBundle(t, dir, sz)
	u := bundle.NewUser(testUser)
	b, findings, err := bundle.Load(bundle.LoadOptions{Dir: dir, Target: "staging", CurrentUser: &u})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == diag.Error {
			t.Fatalf("generated bundle: %v", f)
		}
	}
	files, err := bundle.Files(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != sz.files || len(b.Jobs) != sz.jobs {
		t.Fatalf("generated bundle has %d files and %d jobs, want %d and %d", len(files), len(b.Jobs), sz.files, sz.jobs)
	}
	srv, w := newServer(t, nil)
	return &benchFixture{dir: dir, b: b, files: files, srv: srv, w: w}
}

// deploy applies the bundle and returns the requests it made.
func (f *benchFixture) deploy(t testing.TB, opts Options) (*Result, []emulator.Request) {
	t.Helper()
	before := len(f.srv.Requests())
	res, err := Apply(context.Background(), f.w, f.b, f.files, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, requestsSince(f.srv, before)
}

// setLatency makes the emulator delay every request by d.
func (f *benchFixture) setLatency(t testing.TB, d time.Duration) {
	t.Helper()
	if err := f.srv.Configure(emulator.Config{Latency: d}); err != nil {
		t.Fatal(err)
	}
}

// editFile rewrites one generated notebook with content that differs in
// every round.
func (f *benchFixture) editFile(t testing.TB, round int) {
	t.Helper()
	p := filepath.Join(f.dir, "src", "pkg00", "nb_0000.py")
	if err := os.WriteFile(p, fmt.Appendf(nil, "# Databricks notebook source\nprint('round %d')\n", round), 0o644); err != nil {
		t.Fatal(err)
	}
}

// report records requests and uploads per operation.
func report(b *testing.B, requests, uploads int) {
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(uploads)/float64(b.N), "uploads/op")
}

// BenchmarkFirstDeploy deploys a bundle to an empty workspace. The large
// sub-benchmark uses the default upload parallelism (8); large-parallel-N
// sets Options.Parallel to N.
func BenchmarkFirstDeploy(b *testing.B) {
	cases := []struct {
		name     string
		size     benchSize
		parallel int
	}{
		{"small", smallBundle, 0},
		{"large", largeBundle, 0},
		{"large-parallel-1", largeBundle, 1},
		{"large-parallel-32", largeBundle, 32},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newBenchFixture(b, c.size)
			f.setLatency(b, benchLatency)
			opts := testOptions()
			opts.Parallel = c.parallel
			requests, uploads := 0, 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.srv.Reset()
				b.StartTimer()
				res, reqs := f.deploy(b, opts)
				requests += len(reqs)
				uploads += res.Uploaded
			}
			report(b, requests, uploads)
		})
	}
}

// BenchmarkNoChangeRedeploy redeploys a bundle that is already deployed.
func BenchmarkNoChangeRedeploy(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			f.setLatency(b, benchLatency)
			requests, uploads := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, reqs := f.deploy(b, testOptions())
				requests += len(reqs)
				uploads += res.Uploaded
			}
			report(b, requests, uploads)
		})
	}
}

// BenchmarkOneFileChange redeploys a deployed bundle after one notebook
// changed.
func BenchmarkOneFileChange(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			f.setLatency(b, benchLatency)
			requests, uploads := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.editFile(b, i)
				b.StartTimer()
				res, reqs := f.deploy(b, testOptions())
				requests += len(reqs)
				uploads += res.Uploaded
			}
			report(b, requests, uploads)
		})
	}
}

// BenchmarkCLIHandoff deploys with brickci a bundle the Databricks CLI
// deployed last: the CLI's deployment.json lists the files without hashes,
// so brickci compares them with one export of the file path (see
// verifyForeignSnapshot) instead of uploading every file. The jobs are
// already what the bundle says, as after a CLI deploy of the same bundle.
func BenchmarkCLIHandoff(b *testing.B) {
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		b.Run(sz.name, func(b *testing.B) {
			f := newBenchFixture(b, sz)
			f.deploy(b, testOptions())
			local, err := localFiles(f.b, f.files)
			if err != nil {
				b.Fatal(err)
			}
			requests, uploads := 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.setLatency(b, 0)
				cliSyncFiles(b, context.Background(), f.w, f.b, local, 100+i)
				f.setLatency(b, benchLatency)
				b.StartTimer()
				res, reqs := f.deploy(b, testOptions())
				requests += len(reqs)
				uploads += res.Uploaded
			}
			report(b, requests, uploads)
		})
	}
}

// requestLines renders requests as "METHOD path" lines.
func requestLines(reqs []emulator.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.Path
	}
	return out
}

// TestNoChangeCostIsConstant deploys a small and a large generated bundle
// and checks that redeploying either unchanged, or after one notebook
// changed, sends the same requests: the cost of a deploy follows what
// changed, not the size of the bundle.
func TestNoChangeCostIsConstant(t *testing.T) {
	t.Parallel()
	small := newBenchFixture(t, smallBundle)
	large := newBenchFixture(t, largeBundle)
	for _, f := range []*benchFixture{small, large} {
		if res, _ := f.deploy(t, testOptions()); res.Uploaded != len(f.files) {
			t.Fatalf("first deploy uploaded %d files, want %d", res.Uploaded, len(f.files))
		}
	}

	smallRes, smallReqs := small.deploy(t, testOptions())
	largeRes, largeReqs := large.deploy(t, testOptions())
	if smallRes.Changed || largeRes.Changed || smallRes.Uploaded+largeRes.Uploaded != 0 {
		t.Errorf("no-change redeploys changed something: small %+v, large %+v", smallRes, largeRes)
	}
	if len(largeReqs) > 8 {
		t.Errorf("no-change redeploy of the large bundle made %d requests, want at most 8", len(largeReqs))
	}
	if diff := cmp.Diff(requestLines(smallReqs), requestLines(largeReqs)); diff != "" {
		t.Errorf("no-change redeploy requests differ between %d and %d files (-small +large):\n%s", len(small.files), len(large.files), diff)
	}

	small.editFile(t, 1)
	large.editFile(t, 1)
	smallRes, smallReqs = small.deploy(t, testOptions())
	largeRes, largeReqs = large.deploy(t, testOptions())
	if smallRes.Uploaded != 1 || largeRes.Uploaded != 1 {
		t.Errorf("one-file-change redeploys uploaded %d (small) and %d (large) files, want 1", smallRes.Uploaded, largeRes.Uploaded)
	}
	if diff := cmp.Diff(requestLines(smallReqs), requestLines(largeReqs)); diff != "" {
		t.Errorf("one-file-change redeploy requests differ between %d and %d files (-small +large):\n%s", len(small.files), len(large.files), diff)
	}
}

// TestCLIHandoffCostIsConstant hands a small and a large generated bundle
// over from the CLI to brickci and checks that the deploy sends the same
// requests for both: one export of the file path, no uploads.
func TestCLIHandoffCostIsConstant(t *testing.T) {
	t.Parallel()
	var lines [][]string
	for _, sz := range []benchSize{smallBundle, largeBundle} {
		f := newBenchFixture(t, sz)
		f.deploy(t, testOptions())
		local, err := localFiles(f.b, f.files)
		if err != nil {
			t.Fatal(err)
		}
		cliSyncFiles(t, context.Background(), f.w, f.b, local, 2)
		res, reqs := f.deploy(t, testOptions())
		// The probe (lock and two state files), the lock (create, read
		// back, read before release, delete), the state under it, one
		// export of the file path and brickci's deployment.json.
		if res.Uploaded != 0 || len(reqs) > 11 {
			t.Errorf("%s hand-off: uploaded %d files in %d requests; want 0 uploads in at most 11 requests: %v", sz.name, res.Uploaded, len(reqs), requestLines(reqs))
		}
		lines = append(lines, requestLines(reqs))
	}
	if diff := cmp.Diff(lines[0], lines[1]); diff != "" {
		t.Errorf("hand-off requests differ between the small and the large bundle (-small +large):\n%s", diff)
	}
}
