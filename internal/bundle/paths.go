package bundle

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/brickci/brickci/internal/diag"
	"gopkg.in/yaml.v3"
)

// notebookExts are the extensions of files Databricks imports as notebooks;
// a notebook's workspace path drops its extension.
var notebookExts = []string{".py", ".sql", ".scala", ".r", ".ipynb"}

// notebookHeaders are the first lines that mark a source file as a
// Databricks notebook, by extension.
var notebookHeaders = map[string]string{
	".py":    "# Databricks notebook source",
	".r":     "# Databricks notebook source",
	".sql":   "-- Databricks notebook source",
	".scala": "// Databricks notebook source",
}

// IsNotebook reports whether the file at path is a Databricks notebook: a
// .ipynb file, or a .py/.sql/.scala/.r file whose first line is the
// notebook header.
func IsNotebook(path string) (bool, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".ipynb" {
		return true, nil
	}
	header, ok := notebookHeaders[ext]
	if !ok {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	// Only the first line matters, and a header is short: read a few bytes
	// more than the longest header (a BOM, trailing spaces, CRLF) and no
	// more, so a file with a very long first line is simply not a notebook.
	buf := make([]byte, headerReadBytes)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	first, _, _ := strings.Cut(string(buf[:n]), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "\ufeff")) == header, nil
}

// headerReadBytes is how much of a source file IsNotebook reads: enough for
// the longest notebook header with a byte order mark and trailing blanks.
const headerReadBytes = 256

// linkProblem says why a path under root that involves a symbolic link is
// not uploaded the way it is referenced, or "" when it is. Files uploads a
// link to a regular file inside root as that file; it does not follow links
// to directories, and never uploads what lies outside root.
func linkProblem(root, abs string) string {
	if _, err := os.Lstat(abs); err != nil {
		return "" // missing: reported as path-missing
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return ""
	}
	realAbs, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "is a symbolic link that does not resolve"
	}
	if !within(realRoot, realAbs) {
		return "is a symbolic link to " + filepath.ToSlash(realAbs) + ", outside the bundle"
	}
	rel, _ := filepath.Rel(root, filepath.Dir(abs))
	realDir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err == nil && realDir != filepath.Join(realRoot, rel) {
		return "goes through a symbolic link to a directory (" + filepath.ToSlash(rel) + "), which deploys do not follow"
	}
	return ""
}

// trimNotebookExt drops a notebook extension from a slash path.
func trimNotebookExt(p string) string {
	ext := strings.ToLower(path.Ext(p))
	for _, e := range notebookExts {
		if ext == e {
			return strings.TrimSuffix(p, path.Ext(p))
		}
	}
	return p
}

// isLocalPath reports whether a path in the configuration names a file of
// the bundle (relative), rather than a workspace path, a URI or a reference.
func isLocalPath(p string) bool {
	if p == "" || strings.Contains(p, "${") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
		return false
	}
	if i := strings.Index(p, ":"); i > 0 && !strings.ContainsAny(p[:i], "/\\.") {
		return false // dbfs:/, s3://, file:, workspace:/ ...
	}
	return true
}

type pathKind int

const (
	fileKind pathKind = iota
	notebookKind
	dirKind
)

// translate turns the local path in n (relative to the YAML file holding
// it) into a workspace path under the bundle's file_path, reporting a path
// that does not exist, leaves the bundle or is not what the field needs.
func (l *loader) translate(n *yaml.Node, kind pathKind, b *Bundle) {
	if n == nil || n.Kind != yaml.ScalarNode || !isLocalPath(n.Value) || strings.ContainsAny(n.Value, "*?[") {
		return
	}
	file := l.t.fileOf(n)
	if file == "" {
		file = l.rootFile
	}
	abs := filepath.Join(filepath.Dir(file), filepath.FromSlash(n.Value))
	syncRoot := b.Sync.Root
	if syncRoot == "" {
		syncRoot = l.opts.Dir
	}
	rel, err := filepath.Rel(syncRoot, abs)
	if err != nil || !within(syncRoot, abs) {
		l.add(l.t.errAt("path-outside-bundle", n, "path %q is outside the bundle directory and every sync.paths entry; move the file into the bundle or add its directory to sync.paths", n.Value))
		return
	}
	if problem := linkProblem(syncRoot, abs); problem != "" {
		l.add(l.t.errAt("path-symlink", n, "path %q %s, so a deploy would not upload it; replace the link with the file", n.Value, problem))
		return
	}
	if !l.synced(b, filepath.ToSlash(rel)) {
		l.add(l.t.warnAt("path-not-synced", n, "path %q is not under any sync.paths entry (%s), so a deploy does not upload it; add its directory to sync.paths", n.Value, quoteList(b.Sync.Paths)))
	}
	info, err := os.Stat(abs)
	a, built := builtBy(l.artifacts, abs)
	if built && a.Build != "" && !l.opts.ArtifactsBuilt {
		// Before the build, what an earlier build left on disk says
		// nothing: the same finding whether or not it is there.
		l.add(l.artifactMissing(n, a))
		return
	}
	if errors.Is(err, fs.ErrNotExist) {
		if built {
			l.add(l.artifactMissing(n, a))
			return
		}
		hint := ""
		if kind == notebookKind {
			for _, ext := range notebookExts {
				if _, err := os.Stat(abs + ext); err == nil {
					hint = "; did you mean \"" + n.Value + ext + "\"?"
					break
				}
			}
		}
		l.add(l.t.errAt("path-missing", n, "path %q does not exist (relative to %s)%s", n.Value, filepath.ToSlash(filepath.Dir(file)), hint))
		return
	}
	if err != nil {
		l.add(l.t.errAt("path-missing", n, "path %q cannot be read: %v", n.Value, err))
		return
	}
	if built && !info.IsDir() && kind == fileKind {
		// A build output goes to the artifact path, not with the synced
		// files, whatever .gitignore says, as in the CLI.
		n.Value, n.Tag = l.useArtifact(b, a, abs), "!!str"
		return
	}
	remote := b.Workspace.FilePath + "/" + filepath.ToSlash(rel)
	switch kind {
	case dirKind:
		if !info.IsDir() {
			l.add(l.t.errAt("path-kind", n, "path %q is a file; this field needs a directory", n.Value))
			return
		}
	case notebookKind:
		if info.IsDir() {
			l.add(l.t.errAt("path-kind", n, "path %q is a directory; notebook_path needs a notebook file", n.Value))
			return
		}
		nb, err := IsNotebook(abs)
		if err != nil {
			l.add(l.t.errAt("path-missing", n, "path %q cannot be read: %v", n.Value, err))
			return
		}
		if !nb {
			l.add(l.t.errAt("notebook-header", n, "%q is not a notebook: its first line must be the Databricks notebook header (for .py \"# Databricks notebook source\"), or use spark_python_task for a plain script", n.Value))
			return
		}
		remote = trimNotebookExt(remote)
	default:
		if info.IsDir() {
			l.add(l.t.errAt("path-kind", n, "path %q is a directory; this field needs a file", n.Value))
			return
		}
		if nb, _ := IsNotebook(abs); nb && !strings.EqualFold(filepath.Ext(abs), ".ipynb") {
			remote = trimNotebookExt(remote)
		}
	}
	n.Value, n.Tag = remote, "!!str"
}

// translatePaths rewrites the local paths of every job and pipeline to
// workspace paths.
func (l *loader) translatePaths(res *yaml.Node, b *Bundle) {
	each(res, "pipelines", func(_, pl *yaml.Node) { l.translatePipeline(pl, b) })
	each(res, "jobs", func(key, job *yaml.Node) {
		gitJob := !isNull(get(job, "git_source"))
		if tasks := get(job, "tasks"); tasks != nil && tasks.Kind == yaml.SequenceNode {
			for _, t := range tasks.Content {
				l.translateTask(t, gitJob, b)
			}
		}
		if envs := get(job, "environments"); envs != nil && envs.Kind == yaml.SequenceNode {
			for _, e := range envs.Content {
				deps := get(get(e, "spec"), "dependencies")
				if deps == nil || deps.Kind != yaml.SequenceNode {
					continue
				}
				l.expandGlobs(deps, "", b)
				for _, d := range deps.Content {
					// Dependencies are pip requirement specifiers; only
					// explicit relative paths name bundle files.
					if strings.HasPrefix(d.Value, "./") || strings.HasPrefix(d.Value, "../") {
						l.translate(d, fileKind, b)
					}
				}
			}
		}
	})
}

// translatePipeline rewrites a pipeline's local library and root paths
// to workspace paths. A glob keeps its pattern, with the directory before
// the first wildcard made a workspace path, as the Databricks CLI does.
func (l *loader) translatePipeline(pl *yaml.Node, b *Bundle) {
	l.translate(get(pl, "root_path"), dirKind, b)
	libs := get(pl, "libraries")
	if libs == nil || libs.Kind != yaml.SequenceNode {
		return
	}
	for _, lib := range libs.Content {
		l.translate(get(get(lib, "notebook"), "path"), notebookKind, b)
		l.translate(get(get(lib, "file"), "path"), fileKind, b)
		inc := get(get(lib, "glob"), "include")
		if inc == nil || inc.Kind != yaml.ScalarNode || !isLocalPath(inc.Value) {
			continue
		}
		dir, pattern := inc.Value, ""
		if i := strings.IndexAny(dir, "*?["); i >= 0 {
			j := strings.LastIndex(dir[:i], "/")
			dir, pattern = dir[:j+1], dir[j+1:]
		}
		d := l.t.scalar(strings.TrimSuffix(dir, "/"), inc)
		if d.Value == "" {
			d.Value = "."
		}
		l.translate(d, dirKind, b)
		if strings.HasPrefix(d.Value, "/") {
			inc.Value, inc.Tag = path.Join(d.Value, pattern), "!!str"
		}
	}
}

func (l *loader) translateTask(t *yaml.Node, gitJob bool, b *Bundle) {
	if t == nil || t.Kind != yaml.MappingNode {
		return
	}
	// Paths of tasks whose source is GIT are relative to the repository.
	fromGit := func(task *yaml.Node) bool {
		src := str(get(task, "source"))
		return src == "GIT" || (gitJob && src != "WORKSPACE")
	}
	if nt := get(t, "notebook_task"); nt != nil && !fromGit(nt) {
		l.translate(get(nt, "notebook_path"), notebookKind, b)
	}
	if pt := get(t, "spark_python_task"); pt != nil && !fromGit(pt) {
		l.translate(get(pt, "python_file"), fileKind, b)
	}
	if f := get(get(t, "sql_task"), "file"); f != nil && !fromGit(f) {
		l.translate(get(f, "path"), fileKind, b)
	}
	if dt := get(t, "dbt_task"); dt != nil && !fromGit(dt) {
		l.translate(get(dt, "project_directory"), dirKind, b)
	}
	if libs := get(t, "libraries"); libs != nil && libs.Kind == yaml.SequenceNode {
		l.expandGlobs(libs, "whl", b)
		l.expandGlobs(libs, "jar", b)
		for _, lib := range libs.Content {
			for _, k := range []string{"whl", "jar", "requirements"} {
				l.translate(get(lib, k), fileKind, b)
			}
		}
	}
	l.translateTask(get(get(t, "for_each_task"), "task"), gitJob, b)
}

// artifactMissing reports a path an artifact produces that matches no
// file: before the build (offline validate) it is what the build will make;
// after it, the build did not make it.
func (l *loader) artifactMissing(n *yaml.Node, a Artifact) diag.Finding {
	if l.opts.ArtifactsBuilt {
		return l.t.errAt("path-missing", n, "path %q matches no file after artifact %q was built; check that its build writes it and that its files globs name it", n.Value, a.Name)
	}
	if a.Build == "" {
		return l.t.errAt("path-missing", n, "path %q matches no file, and artifact %q has no build command to make it; build it first or set the artifact's build", n.Value, a.Name)
	}
	return l.t.infoAt("artifact-output", n, "path %q is built by artifact %q, so it is not checked offline; plan and deploy run the build and upload the output to workspace.artifact_path", n.Value, a.Name)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// synced reports whether rel (a slash path relative to the sync root) is
// under one of the bundle's sync paths.
func (l *loader) synced(b *Bundle, rel string) bool {
	if len(b.Sync.Paths) == 0 {
		return true
	}
	for _, p := range b.Sync.Paths {
		if p == "." || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// expandGlobs replaces each entry of list whose local path (the entry
// itself, or its field) is a glob such as ../dist/*.whl with one entry per
// matching file, as the Databricks CLI does for libraries. A glob that
// matches nothing is an error unless an artifact builds what it names.
func (l *loader) expandGlobs(list *yaml.Node, field string, b *Bundle) {
	var out []*yaml.Node
	for _, e := range list.Content {
		n := e
		if field != "" {
			n = get(e, field)
		}
		if n == nil || n.Kind != yaml.ScalarNode || !isLocalPath(n.Value) || !strings.ContainsAny(n.Value, "*?[") {
			out = append(out, e)
			continue
		}
		if field == "" && !strings.HasPrefix(n.Value, "./") && !strings.HasPrefix(n.Value, "../") {
			out = append(out, e)
			continue
		}
		dir := l.dirOf(n)
		pattern := filepath.Join(dir, filepath.FromSlash(n.Value))
		if a, ok := builtBy(l.artifacts, pattern); ok && a.Build != "" && !l.opts.ArtifactsBuilt {
			// Before the build, what an earlier build left on disk says
			// nothing: the same finding whether or not it is there.
			l.add(l.artifactMissing(n, a))
			out = append(out, e)
			continue
		}
		matches, err := doublestar.FilepathGlob(pattern, doublestar.WithFilesOnly())
		switch {
		case err != nil:
			l.add(l.t.errAt("path-missing", n, "path %q is not a valid glob: %v", n.Value, err))
			out = append(out, e)
			continue
		case len(matches) == 0:
			if a, ok := builtBy(l.artifacts, pattern); ok {
				l.add(l.artifactMissing(n, a))
			} else {
				l.add(l.t.errAt("path-missing", n, "path %q matches no file (relative to %s)", n.Value, filepath.ToSlash(dir)))
			}
			out = append(out, e)
			continue
		}
		for _, m := range matches {
			rel, err := filepath.Rel(dir, m)
			if err != nil {
				continue
			}
			c := l.t.clone(e)
			cn := c
			if field != "" {
				cn = get(c, field)
			}
			cn.Value = filepath.ToSlash(rel)
			if !strings.HasPrefix(cn.Value, "../") {
				cn.Value = "./" + cn.Value
			}
			out = append(out, c)
		}
	}
	list.Content = out
}
