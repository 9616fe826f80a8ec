package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/workspace"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/emulator"
)

// newClient serves srv on loopback and returns a PAT client for token.
func newClient(t testing.TB, srv *emulator.Server, token string) (*databricks.WorkspaceClient, *httptest.Server) {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return patClient(t, hs.URL, token), hs
}

func patClient(t testing.TB, host, token string) *databricks.WorkspaceClient {
	t.Helper()
	w, err := databricks.NewWorkspaceClient(&databricks.Config{
		Host: host, Token: token, AuthType: "pat",
		ConfigFile: "/dev/null/none", RetryTimeoutSeconds: 60, RateLimitPerSecond: 100000,
	})
	if err != nil {
		t.Fatalf("failed to create client: %v", err)
	}
	return w
}

func TestCurrentUser(t *testing.T) {
	t.Parallel()
	w, _ := newClient(t, emulator.New(), "t")
	me, err := w.CurrentUser.Me(context.Background(), iam.MeRequest{})
	if err != nil {
		t.Fatalf("me: %v", err)
	}
	if me.UserName != emulator.DefaultUserName || !me.Active || me.Id == "" || len(me.Emails) != 1 || len(me.Groups) == 0 {
		t.Errorf("unexpected user %+v", me)
	}
}

func TestTokensOption(t *testing.T) {
	t.Parallel()
	srv := emulator.NewWithOptions(emulator.Options{Tokens: []string{"good"}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ctx := context.Background()
	if _, err := patClient(t, hs.URL, "good").CurrentUser.Me(ctx, iam.MeRequest{}); err != nil {
		t.Errorf("good token: %v", err)
	}
	_, err := patClient(t, hs.URL, "bad-token").CurrentUser.Me(ctx, iam.MeRequest{})
	var apiErr *apierr.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.ErrorCode != "UNAUTHENTICATED" {
		t.Errorf("bad token: got %v, want 401 UNAUTHENTICATED", err)
	}
}

func TestWorkspaceUploadDownload(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const root = "/Workspace/Users/user@example.com/proj"
	if err := w.Workspace.MkdirsByPath(ctx, root+"/src"); err != nil {
		t.Fatalf("mkdirs: %v", err)
	}
	nb := "# Databricks notebook source\nprint(1)\n"
	uploads := []struct {
		path    string
		content string
		opts    []workspace.UploadOption
	}{
		{root + "/src/nb.py", nb, []workspace.UploadOption{workspace.UploadFormat(workspace.ImportFormatAuto)}},
		{root + "/src/util.py", "def f():\n    return 1\n", []workspace.UploadOption{workspace.UploadFormat(workspace.ImportFormatAuto)}},
		{root + "/data.json", "{}", []workspace.UploadOption{workspace.UploadFormat(workspace.ImportFormatAuto)}},
		{root + "/q.sql", "select 1", []workspace.UploadOption{workspace.UploadLanguage(workspace.LanguageSql), workspace.UploadFormat(workspace.ImportFormatSource)}},
	}
	for _, u := range uploads {
		if err := w.Workspace.Upload(ctx, u.path, bytes.NewBufferString(u.content), u.opts...); err != nil {
			t.Fatalf("upload %s: %v", u.path, err)
		}
	}
	if err := w.Workspace.Import(ctx, workspace.Import{Path: root + "/raw.txt", Format: workspace.ImportFormatRaw, Content: "aGVsbG8="}); err != nil {
		t.Fatalf("json import: %v", err)
	}
	want := map[string]emulator.Object{
		"/":                                   {Type: "DIRECTORY"},
		"/Shared":                             {Type: "DIRECTORY"},
		"/Users":                              {Type: "DIRECTORY"},
		"/Users/user@example.com":             {Type: "DIRECTORY"},
		"/Users/user@example.com/proj":        {Type: "DIRECTORY"},
		"/Users/user@example.com/proj/src":    {Type: "DIRECTORY"},
		"/Users/user@example.com/proj/src/nb": {Type: "NOTEBOOK", Language: "PYTHON", Content: []byte(nb)},
		"/Users/user@example.com/proj/src/util.py": {Type: "FILE", Content: []byte("def f():\n    return 1\n")},
		"/Users/user@example.com/proj/data.json":   {Type: "FILE", Content: []byte("{}")},
		"/Users/user@example.com/proj/q.sql":       {Type: "NOTEBOOK", Language: "SQL", Content: []byte("-- Databricks notebook source\nselect 1")},
		"/Users/user@example.com/proj/raw.txt":     {Type: "FILE", Content: []byte("hello")},
	}
	if diff := cmp.Diff(want, srv.Objects("t")); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}

	rc, err := w.Workspace.Download(ctx, root+"/src/nb")
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	got, _ := io.ReadAll(rc)
	if string(got) != nb {
		t.Errorf("download = %q, want %q", got, nb)
	}
	st, err := w.Workspace.GetStatusByPath(ctx, root+"/src/nb")
	if err != nil {
		t.Fatalf("get-status: %v", err)
	}
	if st.ObjectType != workspace.ObjectTypeNotebook || st.Language != workspace.LanguagePython || st.ObjectId == 0 || st.ModifiedAt == 0 {
		t.Errorf("unexpected status %+v", st)
	}
	list, err := w.Workspace.ListAll(ctx, workspace.ListWorkspaceRequest{Path: root + "/src"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var paths []string
	for _, o := range list {
		paths = append(paths, o.Path)
	}
	if diff := cmp.Diff([]string{"/Users/user@example.com/proj/src/nb", "/Users/user@example.com/proj/src/util.py"}, paths); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	exp, err := w.Workspace.Export(ctx, workspace.ExportRequest{Path: root + "/raw.txt"})
	if err != nil || exp.Content != "aGVsbG8=" {
		t.Errorf("export = %+v, %v", exp, err)
	}
}

func TestWorkspaceErrors(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	const root = "/Users/user@example.com"
	if err := w.Workspace.Upload(ctx, root+"/f.txt", bytes.NewBufferString("x"), workspace.UploadFormat(workspace.ImportFormatAuto)); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := w.Workspace.MkdirsByPath(ctx, root+"/d/e"); err != nil {
		t.Fatalf("mkdirs: %v", err)
	}
	tests := []struct {
		name   string
		call   func() error
		target error
		code   string
	}{
		{"import into missing parent", func() error {
			return w.Workspace.Upload(ctx, root+"/missing/f.txt", bytes.NewBufferString("x"), workspace.UploadFormat(workspace.ImportFormatAuto))
		}, databricks.ErrResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST"},
		{"import existing without overwrite", func() error {
			return w.Workspace.Upload(ctx, root+"/f.txt", bytes.NewBufferString("y"), workspace.UploadFormat(workspace.ImportFormatAuto))
		}, databricks.ErrResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS"},
		{"mkdirs through a file", func() error { return w.Workspace.MkdirsByPath(ctx, root+"/f.txt/sub") }, databricks.ErrResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS"},
		{"get-status of missing", func() error { _, err := w.Workspace.GetStatusByPath(ctx, root+"/nope"); return err }, databricks.ErrResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST"},
		{"delete missing", func() error { return w.Workspace.Delete(ctx, workspace.Delete{Path: root + "/nope"}) }, databricks.ErrResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST"},
		{"delete non-empty", func() error { return w.Workspace.Delete(ctx, workspace.Delete{Path: root + "/d"}) }, databricks.ErrBadRequest, "DIRECTORY_NOT_EMPTY"},
		{"relative path", func() error { _, err := w.Workspace.GetStatusByPath(ctx, "rel"); return err }, databricks.ErrInvalidParameterValue, "INVALID_PARAMETER_VALUE"},
		{"source without language", func() error {
			return w.Workspace.Upload(ctx, root+"/x.txt", bytes.NewBufferString("x"))
		}, databricks.ErrInvalidParameterValue, "INVALID_PARAMETER_VALUE"},
	}
	for _, tc := range tests {
		err := tc.call()
		var apiErr *apierr.APIError
		if !errors.Is(err, tc.target) || !errors.As(err, &apiErr) || apiErr.ErrorCode != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	if err := w.Workspace.Delete(ctx, workspace.Delete{Path: root + "/d", Recursive: true}); err != nil {
		t.Fatalf("recursive delete: %v", err)
	}
	if err := w.Workspace.Upload(ctx, root+"/f.txt", bytes.NewBufferString("y"), workspace.UploadFormat(workspace.ImportFormatAuto), workspace.UploadOverwrite()); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	want := map[string][]byte{root + "/f.txt": []byte("y")}
	if diff := cmp.Diff(want, srv.Files("t")); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestWorkspacesArePerToken(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	a, hs := newClient(t, srv, "a")
	b := patClient(t, hs.URL, "b")
	ctx := context.Background()
	if err := a.Workspace.Upload(ctx, "/Shared/x", bytes.NewBufferString("1"), workspace.UploadFormat(workspace.ImportFormatRaw)); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if _, err := b.Workspace.GetStatusByPath(ctx, "/Shared/x"); !errors.Is(err, databricks.ErrResourceDoesNotExist) {
		t.Errorf("other token sees the file: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, srv.Workspaces()); diff != "" {
		t.Errorf("workspaces (-want +got):\n%s", diff)
	}
}
