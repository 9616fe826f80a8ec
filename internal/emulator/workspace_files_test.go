package emulator_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/service/workspace"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

// importFile writes content with the workspace-files API the way the
// Databricks CLI's filer does: the SDK's API client, the path in the URL,
// the raw bytes as the body.
func importFile(ctx context.Context, w *databricks.WorkspaceClient, p, content string, overwrite bool) error {
	c, err := client.New(w.Config)
	if err != nil {
		return err
	}
	u := fmt.Sprintf("/api/2.0/workspace-files/import-file/%s?overwrite=%t", url.PathEscape(strings.TrimLeft(p, "/")), overwrite)
	return c.Do(ctx, http.MethodPost, u, nil, nil, []byte(content), nil)
}

// TestImportFileStoresNotebooksAsDatabricksDoes uploads the files a CLI
// deploy uploads and checks what the workspace holds.
func TestImportFileStoresNotebooksAsDatabricksDoes(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const root = "/Workspace/Users/user@example.com/b"
	if err := w.Workspace.MkdirsByPath(ctx, root); err != nil {
		t.Fatal(err)
	}
	uploads := map[string]string{
		"py.py":       "# Databricks notebook source\nprint(1)\n",
		"q.sql":       "-- Databricks notebook source\nselect 1\n",
		"s.scala":     "// Databricks notebook source\nprintln(1)\n",
		"r.r":         "# Databricks notebook source\nprint(1)\n",
		"plain.py":    "print(1)\n",
		"header.txt":  "# Databricks notebook source\n",
		"sql_hash.py": "-- Databricks notebook source\nselect 1\n",
		"nb.ipynb":    `{"cells": [{"cell_type": "code", "source": ["print(2)"], "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`,
	}
	for name, content := range uploads {
		if err := importFile(ctx, w, root+"/"+name, content, false); err != nil {
			t.Fatalf("import-file %s: %v", name, err)
		}
	}
	const c = "/Users/user@example.com/b/"
	want := map[string]emulator.Object{
		c + "py":          {Type: "NOTEBOOK", Language: "PYTHON", Content: []byte(uploads["py.py"])},
		c + "q":           {Type: "NOTEBOOK", Language: "SQL", Content: []byte(uploads["q.sql"])},
		c + "s":           {Type: "NOTEBOOK", Language: "SCALA", Content: []byte(uploads["s.scala"])},
		c + "r":           {Type: "NOTEBOOK", Language: "R", Content: []byte(uploads["r.r"])},
		c + "plain.py":    {Type: "FILE", Content: []byte(uploads["plain.py"])},
		c + "header.txt":  {Type: "FILE", Content: []byte(uploads["header.txt"])},
		c + "sql_hash.py": {Type: "FILE", Content: []byte(uploads["sql_hash.py"])},
		c + "nb":          {Type: "NOTEBOOK", Language: "PYTHON", Content: []byte("# Databricks notebook source\nprint(2)")},
	}
	got := srv.Objects("t")
	for p := range got {
		if !strings.HasPrefix(p, c) {
			delete(got, p)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	st, err := w.Workspace.GetStatusByPath(ctx, root+"/py")
	if err != nil || st.ObjectType != workspace.ObjectTypeNotebook {
		t.Errorf("get-status of the notebook: %+v, %v", st, err)
	}
	if _, err := w.Workspace.GetStatusByPath(ctx, root+"/py.py"); !errors.Is(err, databricks.ErrResourceDoesNotExist) {
		t.Errorf("get-status with the extension: got %v, want RESOURCE_DOES_NOT_EXIST", err)
	}
	// The notebook is replaced by an upload of the same source file.
	if err := importFile(ctx, w, root+"/py.py", "# Databricks notebook source\nprint(3)\n", true); err != nil {
		t.Fatal(err)
	}
	if got := string(srv.Files("t")[c+"py"]); got != "# Databricks notebook source\nprint(3)\n" {
		t.Errorf("overwritten notebook holds %q", got)
	}
}

// TestImportFileErrors checks the answers the CLI's filer tells apart.
func TestImportFileErrors(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const root = "/Workspace/Users/user@example.com"
	for name, content := range map[string]string{"f.txt": "x", "nb.py": "# Databricks notebook source\n1\n"} {
		if err := importFile(ctx, w, root+"/"+name, content, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Workspace.MkdirsByPath(ctx, root+"/dir"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		status  int
		code    string
		message string
	}{
		{"existing file", root + "/f.txt", http.StatusConflict, "RESOURCE_ALREADY_EXISTS", "already exists."},
		{"existing notebook", root + "/nb.py", http.StatusBadRequest, "", "already exists."},
		{"missing parent", root + "/missing/f.txt", http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", "does not exist"},
		{"existing directory", root + "/dir", http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS", "is a directory"},
	}
	for _, tc := range tests {
		err := importFile(ctx, w, tc.path, "# Databricks notebook source\n2\n", false)
		var apiErr *apierr.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.ErrorCode != tc.code || !strings.Contains(apiErr.Message, tc.message) {
			t.Errorf("%s: got %v, want %d %q with %q", tc.name, err, tc.status, tc.code, tc.message)
		}
	}
	if got := string(srv.Files("t")["/Users/user@example.com/f.txt"]); got != "x" {
		t.Errorf("a refused import changed the file: %q", got)
	}
}

// TestExportFormats exports files, notebooks and directories in each
// format, through the SDK's workspace client.
func TestExportFormats(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const root = "/Workspace/Users/user@example.com/e"
	if err := w.Workspace.MkdirsByPath(ctx, root+"/sub"); err != nil {
		t.Fatal(err)
	}
	nb := "# Databricks notebook source\nprint(1)\n"
	for name, content := range map[string]string{"nb.py": nb, "sub/data.csv": "a,b\n", "util.py": "x = 1\n"} {
		if err := importFile(ctx, w, root+"/"+name, content, false); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := w.Workspace.Export(ctx, workspace.ExportRequest{Path: root + "/nb", Format: workspace.ExportFormatSource})
	if err != nil || exp.FileType != "py" {
		t.Errorf("export of a notebook: %+v, %v; want file_type py", exp, err)
	}
	archive := func(format workspace.ExportFormat) map[string]string {
		t.Helper()
		rc, err := w.Workspace.Download(ctx, root, workspace.DownloadFormat(format))
		if err != nil {
			t.Fatalf("export of the directory as %s: %v", format, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("export of the directory as %s is not a zip archive: %v", format, err)
		}
		out := map[string]string{}
		for _, f := range zr.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			out[f.Name] = string(b)
		}
		return out
	}
	if diff := cmp.Diff(map[string]string{"nb.py": nb, "sub/data.csv": "a,b\n", "util.py": "x = 1\n"}, archive(workspace.ExportFormatAuto)); diff != "" {
		t.Errorf("AUTO export of a directory (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"nb.py": nb}, archive(workspace.ExportFormatSource)); diff != "" {
		t.Errorf("SOURCE export of a directory, notebooks only (-want +got):\n%s", diff)
	}
	for _, f := range []workspace.ExportFormat{workspace.ExportFormatJupyter, workspace.ExportFormatHtml, workspace.ExportFormatDbc} {
		_, err := w.Workspace.Export(ctx, workspace.ExportRequest{Path: root, Format: f})
		if !errors.Is(err, databricks.ErrInvalidParameterValue) {
			t.Errorf("export of a directory as %s: got %v, want INVALID_PARAMETER_VALUE", f, err)
		}
	}
	_, err = w.Workspace.Export(ctx, workspace.ExportRequest{Path: root + "/util.py", Format: workspace.ExportFormatJupyter})
	if !errors.Is(err, databricks.ErrInvalidParameterValue) {
		t.Errorf("JUPYTER export of a file: got %v, want INVALID_PARAMETER_VALUE", err)
	}
	for _, f := range []workspace.ImportFormat{workspace.ImportFormatDbc, "NONSENSE"} {
		err := w.Workspace.Import(ctx, workspace.Import{Path: root + "/x", Format: f, Content: "eA=="})
		if !errors.Is(err, databricks.ErrInvalidParameterValue) {
			t.Errorf("import as %s: got %v, want INVALID_PARAMETER_VALUE", f, err)
		}
	}
}

// TestExportSizeLimit checks MAX_NOTEBOOK_SIZE_EXCEEDED beyond 10 MB.
func TestExportSizeLimit(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const p = "/Users/user@example.com/big.bin"
	big := strings.Repeat("x", 10<<20+1)
	if err := w.Workspace.Import(ctx, workspace.Import{Path: p, Format: workspace.ImportFormatRaw, Content: encode(big)}); err != nil {
		t.Fatal(err)
	}
	_, err := w.Workspace.Export(ctx, workspace.ExportRequest{Path: p, Format: workspace.ExportFormatAuto})
	var apiErr *apierr.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != "MAX_NOTEBOOK_SIZE_EXCEEDED" {
		t.Errorf("export of 10 MB + 1: got %v, want MAX_NOTEBOOK_SIZE_EXCEEDED", err)
	}
}

func encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
