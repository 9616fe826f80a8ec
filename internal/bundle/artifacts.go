package bundle

import (
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// artifact is one entry of the artifacts block: what its build produces.
type artifact struct {
	name string
	typ  string // "whl", "jar" or ""
	dir  string // the artifact's path on disk
	// files are the globs of its `files` entries, on disk.
	files []string
}

// readArtifacts collects the bundle's artifacts. Paths are relative to the
// file that defines them, as for every path in a bundle; an artifact
// without a path is built in the bundle root.
func (l *loader) readArtifacts(root *yaml.Node) []artifact {
	m := get(root, "artifacts")
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []artifact
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		a := artifact{name: k.Value, typ: str(get(v, "type")), dir: l.opts.Dir}
		if p := get(v, "path"); str(p) != "" {
			a.dir = filepath.Join(l.dirOf(p), filepath.FromSlash(p.Value))
		}
		if files := get(v, "files"); files != nil && files.Kind == yaml.SequenceNode {
			for _, f := range files.Content {
				if src := get(f, "source"); str(src) != "" {
					a.files = append(a.files, filepath.Join(l.dirOf(src), filepath.FromSlash(src.Value)))
				}
			}
		}
		out = append(out, a)
	}
	return out
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
// of its `files` globs matches it, or, for type whl, it is a wheel in the
// artifact's dist directory (where `python -m build`, uv, poetry and
// setuptools put it).
func builtBy(artifacts []artifact, abs string) (artifact, bool) {
	abs = filepath.Clean(abs)
	for _, a := range artifacts {
		for _, f := range a.files {
			if ok, _ := doublestar.PathMatch(filepath.Clean(f), abs); ok {
				return a, true
			}
		}
		if a.typ == "whl" && strings.EqualFold(filepath.Ext(abs), ".whl") && within(filepath.Join(a.dir, "dist"), abs) {
			return a, true
		}
		if a.typ == "jar" && strings.EqualFold(filepath.Ext(abs), ".jar") && within(a.dir, abs) {
			return a, true
		}
	}
	return artifact{}, false
}
