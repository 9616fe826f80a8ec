package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

// A deployment made by the Databricks CLI has a deployment.json whose
// files carry no content hash: the CLI keeps its record of what it uploaded
// (the sync snapshot) on the machine that deployed. Rather than upload
// every file again, brickci reads what the workspace holds with one export
// of the file path as a zip archive (format AUTO, which includes notebooks
// and files), hashes every entry and records those hashes as the snapshot
// to plan against. A file whose workspace content equals the local file is
// then unchanged; any other is uploaded. Content is compared, not sizes or
// modification times: a runner's checkout gives every file a new time, and
// an edit can keep a file's size. A directory too large for one export
// (MAX_NOTEBOOK_SIZE_EXCEEDED) is listed and its subdirectories exported
// one by one; files that cannot be verified are uploaded. docs/comparison.md
// describes the trade-off.

// maxArchiveBytes bounds what is read from one exported archive, expanded,
// so that a corrupt or hostile archive cannot exhaust memory; the export
// API itself refuses more than 10 MB.
const maxArchiveBytes = 256 << 20

// handoffStats is what verifying a foreign snapshot found.
type handoffStats struct {
	Listed   int // files in the CLI's deployment.json
	Verified int // of those, found in the exported archives
	Exports  int // export requests made
}

// foreignSnapshot reports whether deployment.json lists files without
// brickci's content hashes, that is whether the CLI wrote it.
func foreignSnapshot(ds DeploymentState) bool {
	for _, f := range ds.Files {
		if f.SHA256 == "" {
			return true
		}
	}
	return false
}

// verifyForeignSnapshot fills in the workspace path and the hash of the
// workspace content of every file of a CLI-written snapshot that the
// workspace holds, so that planFiles uploads only what differs. A notebook
// is compared as the source the workspace exports, with the extension of
// the local file; when the workspace normalised it differently, it is
// uploaded again. Failing to read the workspace is not an error: the files
// stay unverified and are uploaded, as they would be without this step.
func verifyForeignSnapshot(ctx context.Context, w *databricks.WorkspaceClient, filePath string, ds *DeploymentState) (handoffStats, error) {
	st := handoffStats{Listed: len(ds.Files)}
	hashes := map[string]string{}
	if err := exportHashes(ctx, w, filePath, hashes, &st); err != nil {
		return st, err
	}
	for i, f := range ds.Files {
		if f.SHA256 != "" {
			continue
		}
		remote := remoteOf(filePath, f)
		key := remote
		if f.IsNotebook {
			key += path.Ext(f.LocalPath)
		}
		ds.Files[i].Remote = remote
		if h, ok := hashes[key]; ok {
			ds.Files[i].SHA256 = h
			st.Verified++
		}
	}
	return st, nil
}

// exportHashes adds the sha256 of every entry of dir's archive to hashes,
// keyed by workspace path. A directory too large to export at once is
// descended into; a missing directory adds nothing. Errors other than a
// cancelled context leave the files unverified.
func exportHashes(ctx context.Context, w *databricks.WorkspaceClient, dir string, hashes map[string]string, st *handoffStats) error {
	st.Exports++
	rc, err := w.Workspace.Download(ctx, dir, workspace.DownloadFormat(workspace.ExportFormatAuto))
	if err == nil {
		var data []byte
		data, err = io.ReadAll(io.LimitReader(rc, maxArchiveBytes))
		rc.Close()
		if err == nil {
			return hashArchive(data, dir, hashes)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var apiErr *apierr.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != "MAX_NOTEBOOK_SIZE_EXCEEDED" {
		return nil
	}
	children, err := w.Workspace.ListAll(ctx, workspace.ListWorkspaceRequest{Path: dir})
	if err != nil {
		return ctx.Err()
	}
	for _, c := range children {
		if c.ObjectType != workspace.ObjectTypeDirectory {
			continue
		}
		if err := exportHashes(ctx, w, workspacePath(dir, c.Path), hashes, st); err != nil {
			return err
		}
	}
	return nil
}

// workspacePath gives a listed path the prefix dir is written with: the
// workspace lists paths without "/Workspace".
func workspacePath(dir, listed string) string {
	if strings.HasPrefix(dir, "/Workspace/") && !strings.HasPrefix(listed, "/Workspace/") {
		return "/Workspace" + listed
	}
	return listed
}

// hashArchive adds the hashes of a zip archive's entries, named relative
// to dir. An archive that cannot be read adds nothing.
func hashArchive(data []byte, dir string, hashes map[string]string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	budget := int64(maxArchiveBytes)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
			continue
		}
		r, err := f.Open()
		if err != nil {
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(r, budget+1))
		r.Close()
		budget -= n
		if budget < 0 {
			return nil
		}
		if err != nil {
			continue
		}
		hashes[path.Join(dir, f.Name)] = hex.EncodeToString(h.Sum(nil))
	}
	return nil
}

// adoptForeignFiles verifies a CLI-written snapshot before planning (see
// verifyForeignSnapshot), says what it found on progress and reports
// whether there was one; a deploy then writes brickci's snapshot even when
// nothing else changed, so that the next deploy needs no export.
func adoptForeignFiles(ctx context.Context, w *databricks.WorkspaceClient, filePath string, st *remoteState, progress func(string, ...any)) (bool, error) {
	if !foreignSnapshot(st.deployment) {
		return false, nil
	}
	hs, err := verifyForeignSnapshot(ctx, w, filePath, &st.deployment)
	if err != nil {
		return false, fmt.Errorf("failed to read the files of the previous deployment: %w", err)
	}
	progress("files: the previous deploy was made by the Databricks CLI; %d of %d files found in %d export(s) of %s and compared by content", hs.Verified, hs.Listed, hs.Exports, filePath)
	return true, nil
}
