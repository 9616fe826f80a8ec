package deploy

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
)

// planLocal reads the remote state (two exports, no lock) and compares.
func planLocal(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []localFile) (*PlanResult, error) {
	if b.Workspace.StatePath == "" {
		return nil, fmt.Errorf("bundle %q target %q has no state path; set workspace.root_path", b.Name, b.Target)
	}
	st, err := readState(ctx, sdkFS{w}, b.Workspace.StatePath)
	if err != nil {
		return nil, err
	}
	if _, err := adoptForeignFiles(ctx, w, b.Workspace.FilePath, st, func(string, ...any) {}); err != nil {
		return nil, err
	}
	return computePlan(b, files, st, b.CurrentUser.UserName)
}

// Destroy deletes every resource recorded in the target's state, those
// that use others first, and then the bundle's workspace directories (root,
// and the file and state paths when they lie outside it), holding the
// deploy lock throughout. Whether the user agreed is the caller's concern.
func Destroy(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, opts Options) error {
	d, err := newDeployer(w, sdkFS{w}, b, opts)
	if err != nil {
		return err
	}
	var st *remoteState
	readUnderLock := func(ctx context.Context) error {
		var err error
		st, err = readState(ctx, d.fs, b.Workspace.StatePath)
		return err
	}
	return d.withLock(ctx, readUnderLock, func(ctx context.Context) error {
		d.st = st
		if err := d.adoptPending(ctx); err != nil {
			return err
		}
		var recorded []string
		for a := range st.resources.State {
			if _, _, ok := splitAddr(a); ok {
				recorded = append(recorded, a)
			}
		}
		for _, a := range byType(recorded) {
			if err := d.deleteOne(ctx, a); err != nil {
				return err
			}
		}
		if err := d.removeArtifacts(ctx); err != nil {
			return err
		}
		root := b.Workspace.RootPath
		for _, dir := range []string{b.Workspace.FilePath, b.Workspace.StatePath} {
			if !strings.HasPrefix(dir, root+"/") && dir != root && dir != b.Workspace.StatePath {
				if err := d.fs.remove(ctx, dir, true); err != nil {
					return fmt.Errorf("failed to delete %q: %w", dir, err)
				}
			}
		}
		if err := d.fs.remove(ctx, root, true); err != nil {
			return fmt.Errorf("failed to delete %q: %w", root, err)
		}
		if !strings.HasPrefix(b.Workspace.StatePath, root+"/") {
			// The lock lives in the state path; deleting that last ends the
			// deployment and releases the lock at once.
			if err := d.fs.remove(ctx, b.Workspace.StatePath, true); err != nil {
				return fmt.Errorf("failed to delete %q: %w", b.Workspace.StatePath, err)
			}
		}
		d.progress("destroyed bundle %s target %s (%s)", b.Name, b.Target, path.Clean(root))
		return nil
	})
}
