package bundle

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// NewTarget is a target to add to a bundle's root file.
type NewTarget struct {
	Name string
	// Host is the workspace URL, written as workspace.host when set.
	Host string
}

// AddTargets adds the given targets to the `targets:` mapping of the
// bundle's root file by inserting text after the mapping's last line, so
// everything the user wrote — comments, blank lines, quoting, indentation —
// stays exactly as it was. Without a `targets:` key it appends one at the
// end. It returns whether the file changed.
func AddTargets(rootFile string, targets []NewTarget) (bool, error) {
	if len(targets) == 0 {
		return false, nil
	}
	data, err := os.ReadFile(rootFile)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", rootFile, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return false, fmt.Errorf("failed to parse %s: %w", rootFile, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false, fmt.Errorf("%s is not a mapping; cannot add targets to it", rootFile)
	}
	root := doc.Content[0]
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	newline := "\n"
	if bytes.Contains(data, []byte("\r\n")) {
		newline = "\r\n"
	}

	var targetsKey, targetsVal *yaml.Node
	next := len(lines) + 1 // the line after the targets block, 1-based
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "targets" {
			targetsKey, targetsVal = root.Content[i], root.Content[i+1]
			if i+2 < len(root.Content) {
				next = root.Content[i+2].Line
			}
		}
	}
	if targetsVal != nil && targetsVal.Kind == yaml.MappingNode && targetsVal.Style&yaml.FlowStyle != 0 {
		return false, fmt.Errorf("%s:%d:%d: targets is written in flow style ({...}); write it as a block mapping so targets can be added", rootFile, targetsVal.Line, targetsVal.Column)
	}

	var block strings.Builder
	indent := "  "
	if targetsVal != nil && targetsVal.Kind == yaml.MappingNode && len(targetsVal.Content) > 0 {
		indent = strings.Repeat(" ", targetsVal.Content[0].Column-1)
	}
	for _, t := range targets {
		fmt.Fprintf(&block, "%s# added by brickci generate: the pipeline spec deploys to %q%s", indent, t.Name, newline)
		if t.Host == "" {
			fmt.Fprintf(&block, "%s%s: {}%s", indent, t.Name, newline)
			continue
		}
		fmt.Fprintf(&block, "%s%s:%s%s%sworkspace:%s%s%s%shost: %s%s", indent, t.Name, newline, indent, indent, newline, indent, indent, indent, t.Host, newline)
	}

	var out []string
	switch {
	case targetsKey == nil || targetsVal.Kind == yaml.ScalarNode && targetsVal.Tag == "!!null":
		if targetsKey != nil {
			// "targets:" with nothing under it: fill it in place.
			at := targetsKey.Line
			out = append(append(append([]string{}, lines[:at]...), block.String()), lines[at:]...)
			break
		}
		out = append([]string{}, lines...)
		if len(out) > 0 && !strings.HasSuffix(out[len(out)-1], "\n") {
			out[len(out)-1] += newline
		}
		out = append(out, newline, "targets:"+newline, block.String())
	case targetsVal.Kind != yaml.MappingNode:
		return false, fmt.Errorf("%s:%d:%d: targets must be a mapping", rootFile, targetsVal.Line, targetsVal.Column)
	default:
		// Insert after the block's last non-blank, non-comment line that
		// belongs to it, before blank lines and comments that lead into the
		// next top-level key.
		end := next - 1 // lines[end-1] is the last line before the next key
		for end > targetsKey.Line {
			l := strings.TrimSpace(lines[end-1])
			if l != "" && !(strings.HasPrefix(l, "#") && !strings.HasPrefix(lines[end-1], " ")) {
				break
			}
			end--
		}
		if !strings.HasSuffix(lines[end-1], "\n") {
			lines[end-1] += newline
		}
		out = append(append(append([]string{}, lines[:end]...), block.String()), lines[end:]...)
	}
	result := strings.Join(out, "")
	var check yaml.Node
	if err := yaml.Unmarshal([]byte(result), &check); err != nil {
		return false, fmt.Errorf("failed to add targets to %s: the result would not parse (%v); add them by hand", rootFile, err)
	}
	st, err := os.Stat(rootFile)
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(rootFile, []byte(result), st.Mode().Perm()); err != nil {
		return false, fmt.Errorf("failed to write %s: %w", rootFile, err)
	}
	return true, nil
}

// TargetNames returns the root file of the bundle in dir and the names of
// the targets it defines, its includes counted, in file order. Findings
// about the files are left to Load; a file that does not parse yields no
// names.
func TargetNames(dir string) (string, []string, error) {
	rootFile, err := findRoot(dir)
	if err != nil {
		return "", nil, err
	}
	l := &loader{opts: LoadOptions{Dir: dir, Getenv: func(string) string { return "" }}, t: newTree(), rootFile: rootFile}
	root, err := l.read(rootFile)
	if err != nil || root == nil {
		return rootFile, nil, err
	}
	if err := l.includes(root); err != nil {
		return rootFile, nil, err
	}
	targets := get(root, "targets")
	if targets == nil {
		targets = get(root, "environments")
	}
	var names []string
	if targets != nil && targets.Kind == yaml.MappingNode {
		for i := 0; i < len(targets.Content); i += 2 {
			names = append(names, targets.Content[i].Value)
		}
	}
	return rootFile, names, nil
}
