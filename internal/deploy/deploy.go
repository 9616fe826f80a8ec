package deploy

import (
	"context"
	"runtime"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
)

// localFiles hashes the files bundle.Files chose, several at a time, and
// places them under the target's file path.
func localFiles(b *bundle.Bundle, files []bundle.File) ([]localFile, error) {
	out := make([]localFile, len(files))
	err := forEachParallel(context.Background(), 2*runtime.GOMAXPROCS(0), indexes(len(files)), func(_ context.Context, i int) error {
		f := files[i]
		h, err := hashFile(f.Abs)
		if err != nil {
			return err
		}
		lf := localFile{Rel: f.Rel, Abs: f.Abs, Remote: f.RemotePath(b.Workspace.FilePath), Notebook: f.Notebook, Hash: h}
		if f.Notebook {
			lf.Lang = notebookLanguage(f.Rel)
		}
		out[i] = lf
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// indexes returns 0, 1, …, n-1.
func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Plan reports what Apply would change, comparing the bundle with the
// settings recorded in the target's state (two exports: resources.json and
// deployment.json). It takes no lock and writes nothing. files are what
// bundle.Files returned for b.
func Plan(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []bundle.File) (*PlanResult, error) {
	lf, err := localFiles(b, files)
	if err != nil {
		return nil, err
	}
	return planLocal(ctx, w, b, lf)
}

// Apply deploys b: it takes the deploy lock, uploads changed files,
// creates, updates, replaces and deletes the bundle's resources, sets
// permissions and grants and records state after every change, then
// releases the lock, also on
// failure and cancellation. A Result is returned with the job ids known so
// far even when err is not nil.
func Apply(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []bundle.File, opts Options) (*Result, error) {
	d, err := newDeployer(w, sdkFS{w}, b, opts)
	if err != nil {
		return nil, err
	}
	// The files are hashed while the state is read.
	reads := d.startProbe(ctx)
	lf, err := localFiles(b, files)
	if err != nil {
		reads()
		return nil, err
	}
	return d.apply(ctx, lf, reads)
}
