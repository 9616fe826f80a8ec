package bundle

import (
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// DefaultWheelBuild is the build command of a `type: whl` artifact that sets
// neither `build` nor `files`, as in the Databricks CLI
// (bundle/artifacts/prepare.go): setuptools' bdist_wheel, run in the
// artifact's path.
const DefaultWheelBuild = "python3 setup.py bdist_wheel"

// internalDir is the folder under workspace.artifact_path that built
// artifacts are uploaded to, the one the Databricks CLI uses
// (bundle/libraries: InternalDirName).
const internalDir = ".internal"

// readArtifacts collects the bundle's artifacts with the CLI's defaults:
// paths are relative to the file that defines them (an artifact without a
// path is built in the bundle root); a wheel without `build` and `files`
// is built with DefaultWheelBuild; a wheel without `files` produces
// <path>/dist/*.whl.
func (l *loader) readArtifacts(root *yaml.Node) []Artifact {
	m := get(root, "artifacts")
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	// presets.artifacts_dynamic_version sets dynamic_version on every wheel.
	presetDynamic := str(get(get(root, "presets"), "artifacts_dynamic_version")) == "true"
	var out []Artifact
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		a := Artifact{
			Name:           k.Value,
			Type:           str(get(v, "type")),
			Path:           l.opts.Dir,
			Build:          str(get(v, "build")),
			Executable:     str(get(v, "executable")),
			DynamicVersion: str(get(v, "dynamic_version")) == "true" || presetDynamic,
			Location:       l.t.loc(k),
		}
		if p := get(v, "path"); str(p) != "" {
			a.Path = filepath.Join(l.dirOf(p), filepath.FromSlash(p.Value))
		}
		if files := get(v, "files"); files != nil && files.Kind == yaml.SequenceNode {
			for _, f := range files.Content {
				if src := get(f, "source"); str(src) != "" {
					a.Files = append(a.Files, filepath.Join(l.dirOf(src), filepath.FromSlash(src.Value)))
				}
			}
		}
		if a.Type == "whl" {
			if a.Build == "" && len(a.Files) == 0 {
				a.Build = DefaultWheelBuild
			}
			if len(a.Files) == 0 {
				a.Files = []string{filepath.Join(a.Path, "dist", "*.whl")}
			}
		}
		if a.Build == "" && len(a.Files) == 0 {
			l.add(l.t.errAt("artifact", k, "artifact %q sets neither build nor files; set build (the command that makes it) or files (what it produces)", a.Name))
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// artifactInfos says, offline, what each artifact's build will be.
func (l *loader) artifactInfos(root *yaml.Node) {
	m := get(root, "artifacts")
	if m == nil || m.Kind != yaml.MappingNode || l.opts.ArtifactsBuilt {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		for _, a := range l.artifacts {
			if a.Name != k.Value || a.Build == "" {
				continue
			}
			rel, err := filepath.Rel(l.opts.Dir, a.Path)
			if err != nil {
				rel = a.Path
			}
			where := filepath.ToSlash(rel)
			if where == "." {
				where = "the bundle root"
			}
			l.add(l.t.infoAt("artifact-build", k, "artifact %q is built by plan and deploy: %q runs in %s", a.Name, a.Build, where))
		}
	}
}

// dirOf returns the directory of the file a node was read from.
func (l *loader) dirOf(n *yaml.Node) string {
	file := l.t.fileOf(n)
	if file == "" {
		file = l.rootFile
	}
	return filepath.Dir(file)
}

// builtBy returns the artifact whose build produces the file at abs: one
// of its `files` globs matches it (a wheel's default glob is
// <path>/dist/*.whl), or, for type jar, it is a jar in the artifact's path.
func builtBy(artifacts []Artifact, abs string) (Artifact, bool) {
	abs = filepath.Clean(abs)
	for _, a := range artifacts {
		for _, f := range a.Files {
			if ok, _ := doublestar.PathMatch(filepath.Clean(f), abs); ok {
				return a, true
			}
		}
		if a.Type == "whl" && strings.EqualFold(filepath.Ext(abs), ".whl") && within(filepath.Join(a.Path, "dist"), abs) {
			return a, true
		}
		if a.Type == "jar" && strings.EqualFold(filepath.Ext(abs), ".jar") && within(a.Path, abs) {
			return a, true
		}
	}
	return Artifact{}, false
}

// artifactRemote returns where a built file is uploaded: the `.internal`
// folder of workspace.artifact_path, under the file's own name, so a new
// build of the same version replaces the old file, as in the CLI.
func artifactRemote(artifactPath, abs string) string {
	p := path.Join(artifactPath, internalDir, filepath.Base(abs))
	if !strings.HasPrefix(p, "/Workspace") && !strings.HasPrefix(p, "/Volumes") {
		p = "/Workspace" + p
	}
	return p
}

// useArtifact records that a reference names the built file abs and
// returns its workspace path.
func (l *loader) useArtifact(b *Bundle, a Artifact, abs string) string {
	remote := artifactRemote(b.Workspace.ArtifactPath, abs)
	for _, f := range b.ArtifactFiles {
		if f.Abs == abs {
			return remote
		}
	}
	b.ArtifactFiles = append(b.ArtifactFiles, ArtifactFile{Artifact: a.Name, Abs: abs, Remote: remote})
	sort.Slice(b.ArtifactFiles, func(i, j int) bool { return b.ArtifactFiles[i].Abs < b.ArtifactFiles[j].Abs })
	return remote
}
