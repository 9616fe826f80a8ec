package deploy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

// workspaceFS is the small part of the workspace API that state, lock and
// file sync need. It is an interface so that the lock protocol can be tested
// against a fake as well as against the emulator.
type workspaceFS interface {
	// read returns the content of a workspace file; a missing file is an
	// error matching errNotFound.
	read(ctx context.Context, path string) ([]byte, error)
	// write imports data at path as a workspace file (or as a notebook of
	// language lang when lang is not empty). With overwrite false an existing
	// path is an error matching errExists; a missing parent matches
	// errNotFound.
	write(ctx context.Context, path string, data []byte, lang workspace.Language, overwrite bool) error
	mkdirs(ctx context.Context, path string) error
	// remove deletes path; a missing path is not an error.
	remove(ctx context.Context, path string, recursive bool) error
}

// errNotFound and errExists are the SDK's sentinel errors for
// RESOURCE_DOES_NOT_EXIST and RESOURCE_ALREADY_EXISTS.
var (
	errNotFound = apierr.ErrNotFound
	errExists   = apierr.ErrResourceAlreadyExists
)

func isNotFound(err error) bool { return errors.Is(err, apierr.ErrNotFound) }

func isExists(err error) bool {
	return errors.Is(err, apierr.ErrResourceAlreadyExists) || errors.Is(err, apierr.ErrAlreadyExists)
}

// sdkFS implements workspaceFS with the workspace object API: import with
// JSON and base64 content, export (as the file's bytes, direct_download),
// mkdirs and delete.
type sdkFS struct{ w *databricks.WorkspaceClient }

func (f sdkFS) read(ctx context.Context, path string) ([]byte, error) {
	rc, err := f.w.Workspace.Download(ctx, path, workspace.DownloadFormat(workspace.ExportFormatSource))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("failed to read the content of %q: %w", path, err)
	}
	return data, nil
}

func (f sdkFS) write(ctx context.Context, path string, data []byte, lang workspace.Language, overwrite bool) error {
	req := workspace.Import{
		Path:      path,
		Content:   base64.StdEncoding.EncodeToString(data),
		Format:    workspace.ImportFormatAuto,
		Overwrite: overwrite,
	}
	if lang != "" {
		req.Format = workspace.ImportFormatSource
		req.Language = lang
	}
	return f.w.Workspace.Import(ctx, req)
}

func (f sdkFS) mkdirs(ctx context.Context, path string) error {
	return f.w.Workspace.Mkdirs(ctx, workspace.Mkdirs{Path: path})
}

func (f sdkFS) remove(ctx context.Context, path string, recursive bool) error {
	err := f.w.Workspace.Delete(ctx, workspace.Delete{Path: path, Recursive: recursive})
	if isNotFound(err) {
		return nil
	}
	return err
}
