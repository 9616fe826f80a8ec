package deploy

// This file turns the files the bundle's artifacts built into uploads to
// <artifact_path>/.internal, decides which of them changed since the last
// deploy (by content hash, recorded in deployment.json) and which jobs use
// a changed one, and uploads them before the jobs are applied.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/brickci/brickci/internal/artifacts"
	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
)

// maxImportBytes is the largest file the workspace import API takes.
const maxImportBytes = 10 << 20

// StateArtifact is one uploaded artifact file in DeploymentState. The CLI
// does not read the field; destroy and the next deploy do.
type StateArtifact struct {
	Artifact  string `json:"artifact"`
	LocalPath string `json:"local_path"`
	Remote    string `json:"remote_path"`
	SHA256    string `json:"sha256"`
}

// ArtifactChanges lists the built files a deploy uploads (new or changed
// content) and deletes (no longer built or referenced), by workspace path.
// It is the zero value for a bundle without artifacts.
type ArtifactChanges struct {
	Upload    []ArtifactUpload `json:"upload"`
	Deleted   []string         `json:"deleted"`
	Unchanged int              `json:"unchanged"`
}

// ArtifactUpload is one built file to upload.
type ArtifactUpload struct {
	Artifact string `json:"artifact"`
	Remote   string `json:"remote_path"`
	// Jobs are the keys of the existing jobs that use it, which a deploy
	// updates because the file changed.
	Jobs []string `json:"jobs,omitempty"`
}

// artifactFile is a built file with its content hash.
type artifactFile struct {
	bundle.ArtifactFile
	Rel  string // relative to the bundle root, for messages and state
	Hash string
}

// localArtifacts hashes the built files the bundle's jobs reference. A
// reference still naming a local wheel or jar (the bundle was loaded
// before its artifacts were built) is an error: it would reach the
// workspace as a path that does not exist there.
func localArtifacts(b *bundle.Bundle) ([]artifactFile, error) {
	for _, k := range slices.Sorted(maps.Keys(b.Jobs)) {
		if p := localLibrary(b.Jobs[k].Config); p != "" {
			return nil, fmt.Errorf("job %q refers to the local file %q, which is not built or not uploaded; build the bundle's artifacts and load it with LoadOptions.ArtifactsBuilt", k, p)
		}
	}
	if len(b.ArtifactFiles) == 0 {
		return nil, nil
	}
	if strings.HasPrefix(b.Workspace.ArtifactPath, "/Volumes/") {
		return nil, fmt.Errorf("workspace.artifact_path %q is a Unity Catalog volume; brickci uploads artifacts to workspace folders only: set artifact_path to a /Workspace path or deploy with the Databricks CLI", b.Workspace.ArtifactPath)
	}
	out := make([]artifactFile, 0, len(b.ArtifactFiles))
	for _, f := range b.ArtifactFiles {
		info, err := os.Stat(f.Abs)
		if err != nil {
			return nil, fmt.Errorf("failed to read artifact %q output: %w", f.Artifact, err)
		}
		if info.Size() > maxImportBytes {
			return nil, fmt.Errorf("artifact %q output %s is %d bytes, more than the 10 MiB the workspace import API takes; make it smaller or deploy it with the Databricks CLI", f.Artifact, filepath.Base(f.Abs), info.Size())
		}
		h, err := artifacts.Hash(f.Abs)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(b.Dir, f.Abs)
		if err != nil {
			rel = f.Abs
		}
		out = append(out, artifactFile{ArtifactFile: f, Rel: filepath.ToSlash(rel), Hash: h})
	}
	return out, nil
}

// planArtifacts compares the built files with the last deploy's record and
// marks every existing job that uses a changed file as updated.
func planArtifacts(p *PlanResult, b *bundle.Bundle, arts []artifactFile, recorded []StateArtifact) {
	p.artifacts = arts
	if len(arts)+len(recorded) == 0 {
		return
	}
	p.Artifacts = ArtifactChanges{Upload: []ArtifactUpload{}, Deleted: []string{}}
	old := map[string]StateArtifact{}
	for _, a := range recorded {
		old[a.Remote] = a
	}
	want := map[string]bool{}
	for _, a := range arts {
		want[a.Remote] = true
		if o, ok := old[a.Remote]; ok && o.SHA256 == a.Hash {
			p.Artifacts.Unchanged++
			continue
		}
		u := ArtifactUpload{Artifact: a.Artifact, Remote: a.Remote}
		for i, rc := range p.Resources {
			if rc.Kind != KindJob || rc.Action == Create || rc.Action == Delete || !usesString(b.Jobs[rc.Key].Config, a.Remote) {
				continue
			}
			u.Jobs = append(u.Jobs, rc.Key)
			p.Resources[i].Action = Update
			p.Resources[i].Fields = append(p.Resources[i].Fields, FieldChange{Path: artifactField(a.Remote), Old: shortHash(old[a.Remote].SHA256), New: shortHash(a.Hash)})
		}
		p.Artifacts.Upload = append(p.Artifacts.Upload, u)
	}
	for _, a := range recorded {
		if !want[a.Remote] {
			p.Artifacts.Deleted = append(p.Artifacts.Deleted, a.Remote)
		}
	}
	sort.Strings(p.Artifacts.Deleted)
}

// artifactField names the change of a built file a job uses.
func artifactField(remote string) string { return "artifact " + path.Base(remote) }

// artifactChanged reports whether a job's planned change includes a built
// file it uses, which needs the job reset although its settings are equal.
func artifactChanged(rc ResourceChange) bool {
	for _, f := range rc.Fields {
		if strings.HasPrefix(f.Path, "artifact ") {
			return true
		}
	}
	return false
}

func shortHash(h string) any {
	if h == "" {
		return nil
	}
	h = strings.TrimPrefix(h, "zip:")
	if len(h) > 12 {
		h = h[:12]
	}
	return "sha256:" + h
}

// usesString reports whether s appears as a whole string value in v.
func usesString(v any, s string) bool {
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			if usesString(c, s) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if usesString(c, s) {
				return true
			}
		}
	case string:
		return t == s
	}
	return false
}

// syncArtifacts uploads the built files that changed, deletes the ones no
// longer used and records what is uploaded in the deployment state, which
// is written after the jobs.
func (d *deployer) syncArtifacts(ctx context.Context, plan *PlanResult, res *Result) error {
	byRemote := map[string]artifactFile{}
	for _, a := range plan.artifacts {
		byRemote[a.Remote] = a
	}
	upload := make([]localFile, 0, len(plan.Artifacts.Upload))
	for _, u := range plan.Artifacts.Upload {
		a := byRemote[u.Remote]
		upload = append(upload, localFile{Rel: a.Rel, Abs: a.Abs, Remote: a.Remote, Hash: a.Hash})
	}
	if len(upload) > 0 {
		// The folder exists when the last deploy uploaded there; an upload
		// into a folder deleted since creates it again.
		dir := path.Dir(upload[0].Remote)
		if !slices.ContainsFunc(d.st.deployment.Artifacts, func(a StateArtifact) bool { return path.Dir(a.Remote) == dir }) {
			if err := d.fs.mkdirs(ctx, dir); err != nil {
				return fmt.Errorf("failed to create directory %q: %w", dir, err)
			}
		}
		if err := d.uploadAll(ctx, upload); err != nil {
			return err
		}
	}
	for _, remote := range plan.Artifacts.Deleted {
		if err := d.fs.remove(ctx, remote, false); err != nil {
			return fmt.Errorf("failed to delete %q: %w", remote, err)
		}
	}
	res.ArtifactsUploaded = len(upload)
	if len(upload) > 0 || len(plan.Artifacts.Deleted) > 0 {
		d.progress("artifacts: uploaded %d, deleted %d, unchanged %d", len(upload), len(plan.Artifacts.Deleted), plan.Artifacts.Unchanged)
	}
	recorded := make([]StateArtifact, 0, len(plan.artifacts))
	for _, a := range plan.artifacts {
		recorded = append(recorded, StateArtifact{Artifact: a.Artifact, LocalPath: a.Rel, Remote: a.Remote, SHA256: a.Hash})
	}
	d.st.deployment.Artifacts = recorded
	return nil
}

// removeArtifacts deletes the recorded artifact files outside the root
// path, which destroy deletes as a whole.
func (d *deployer) removeArtifacts(ctx context.Context) error {
	root := d.b.Workspace.RootPath
	for _, a := range d.st.deployment.Artifacts {
		if strings.HasPrefix(a.Remote, root+"/") {
			continue
		}
		if err := d.fs.remove(ctx, a.Remote, false); err != nil {
			return fmt.Errorf("failed to delete artifact %q: %w", a.Remote, err)
		}
		d.progress("deleted artifact %s", a.Remote)
	}
	return nil
}

// writeArtifactsText writes the artifact lines of the text plan.
func (p *PlanResult) writeArtifactsText(b *strings.Builder) {
	ac := p.Artifacts
	if len(ac.Upload)+len(ac.Deleted)+ac.Unchanged == 0 {
		return
	}
	if len(ac.Upload)+len(ac.Deleted) == 0 {
		fmt.Fprintf(b, "artifacts: %d unchanged\n", ac.Unchanged)
		return
	}
	fmt.Fprintf(b, "artifacts: build and upload %d, %d deleted, %d unchanged\n", len(ac.Upload), len(ac.Deleted), ac.Unchanged)
	for _, u := range ac.Upload {
		fmt.Fprintf(b, "  + %s (artifact %s)", u.Remote, u.Artifact)
		if len(u.Jobs) > 0 {
			fmt.Fprintf(b, ": updates job %s", strings.Join(u.Jobs, ", "))
		}
		b.WriteString("\n")
	}
	for _, r := range ac.Deleted {
		fmt.Fprintf(b, "  - %s\n", r)
	}
}

// writeArtifactsMarkdown writes the artifact part of the markdown plan.
func (p *PlanResult) writeArtifactsMarkdown(b *strings.Builder) {
	ac := p.Artifacts
	if len(ac.Upload)+len(ac.Deleted)+ac.Unchanged == 0 {
		return
	}
	if len(ac.Upload)+len(ac.Deleted) == 0 {
		fmt.Fprintf(b, "\n**Artifacts:** %d unchanged\n", ac.Unchanged)
		return
	}
	fmt.Fprintf(b, "\n**Artifacts:** build and upload %d, %d deleted, %d unchanged\n", len(ac.Upload), len(ac.Deleted), ac.Unchanged)
	for _, u := range ac.Upload {
		fmt.Fprintf(b, "- upload %s (artifact %s)", diag.MarkdownCode(path.Base(u.Remote)), diag.MarkdownCode(u.Artifact))
		if len(u.Jobs) > 0 {
			fmt.Fprintf(b, ": updates job %s", diag.MarkdownCode(strings.Join(u.Jobs, ", ")))
		}
		b.WriteString("\n")
	}
	for _, r := range ac.Deleted {
		fmt.Fprintf(b, "- delete %s\n", diag.MarkdownCode(path.Base(r)))
	}
}

// localLibrary returns the first string in v that is a relative path to a
// wheel or jar, the form a library takes before its artifact is built.
func localLibrary(v any) string {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if p := localLibrary(t[k]); p != "" {
				return p
			}
		}
	case []any:
		for _, c := range t {
			if p := localLibrary(c); p != "" {
				return p
			}
		}
	case string:
		ext := strings.ToLower(path.Ext(t))
		if (strings.HasPrefix(t, "./") || strings.HasPrefix(t, "../")) && (ext == ".whl" || ext == ".jar") {
			return t
		}
	}
	return ""
}
