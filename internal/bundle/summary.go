package bundle

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/mermaid"
)

// resourceTypeNames are the singular names of resource types in summaries.
var resourceTypeNames = map[string]string{
	"jobs":                    "job",
	"model_serving_endpoints": "serving endpoint",
	"pipelines":               "pipeline",
	"experiments":             "experiment",
	"models":                  "model",
	"registered_models":       "registered model",
	"schemas":                 "schema",
	"volumes":                 "volume",
	"clusters":                "cluster",
	"quality_monitors":        "quality monitor",
}

// WriteSummary writes a markdown summary of b for step summaries and
// pull-request comments: the resolved name, target, mode and paths, a table
// of resources, and a mermaid graph of each job's tasks.
func WriteSummary(w io.Writer, b *Bundle) error {
	var s strings.Builder
	fmt.Fprintf(&s, "### Bundle %s, target %s\n\n", diag.MarkdownCode(b.Name), diag.MarkdownCode(b.Target))
	mode := b.Mode
	if mode == "" {
		mode = "(none)"
	}
	fmt.Fprintf(&s, "| setting | value |\n|---|---|\n")
	fmt.Fprintf(&s, "| mode | %s |\n", diag.EscapeMarkdown(mode))
	if b.Workspace.Host != "" {
		fmt.Fprintf(&s, "| host | %s |\n", diag.EscapeMarkdown(b.Workspace.Host))
	}
	fmt.Fprintf(&s, "| root path | %s |\n", diag.MarkdownCode(b.Workspace.RootPath))
	user := b.CurrentUser.UserName
	if b.CurrentUser.Placeholder {
		user = "(not looked up: offline)"
	}
	fmt.Fprintf(&s, "| deployed as | %s |\n", diag.EscapeMarkdown(user))
	if b.RunAs != nil {
		fmt.Fprintf(&s, "| run as | %s |\n", diag.EscapeMarkdown(b.RunAs.UserName+b.RunAs.ServicePrincipalName))
	}
	s.WriteString("\n")
	if len(b.Resources) == 0 {
		s.WriteString("No resources.\n")
	} else {
		s.WriteString("| type | key | name | details |\n|---|---|---|---|\n")
		for _, r := range b.Resources {
			typ := resourceTypeNames[r.Type]
			if typ == "" {
				typ = r.Type
			}
			fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", typ, diag.MarkdownCode(r.Key), diag.EscapeMarkdown(r.Name), diag.EscapeMarkdown(details(b, r)))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(b.Jobs)) {
		tasks := jobTasks(b.Jobs[key])
		if len(tasks) == 0 {
			continue
		}
		fmt.Fprintf(&s, "\n#### Job %s\n\n```mermaid\n%s```\n", diag.MarkdownCode(key), Mermaid(tasks))
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// WriteTextSummary writes a short plain-text summary of b for terminals.
func WriteTextSummary(w io.Writer, b *Bundle) error {
	var s strings.Builder
	fmt.Fprintf(&s, "bundle %q, target %q", b.Name, b.Target)
	if b.Mode != "" {
		fmt.Fprintf(&s, " (mode %s)", b.Mode)
	}
	fmt.Fprintf(&s, "\n  root path: %s\n", b.Workspace.RootPath)
	for _, r := range b.Resources {
		typ := resourceTypeNames[r.Type]
		if typ == "" {
			typ = r.Type
		}
		line := fmt.Sprintf("  %s %s", typ, r.Key)
		if r.Name != "" {
			line += fmt.Sprintf(" %q", r.Name)
		}
		if d := details(b, r); d != "" {
			line += ": " + d
		}
		s.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// Task is one node of a job's task graph.
type Task struct {
	Key       string
	DependsOn []string
}

// jobTasks reads the task graph from a job's configuration.
func jobTasks(j *Job) []Task {
	list, _ := j.Config["tasks"].([]any)
	var out []Task
	for _, e := range list {
		m, _ := e.(map[string]any)
		key, _ := m["task_key"].(string)
		if key == "" {
			continue
		}
		t := Task{Key: key}
		deps, _ := m["depends_on"].([]any)
		for _, d := range deps {
			dm, _ := d.(map[string]any)
			if k, _ := dm["task_key"].(string); k != "" {
				t.DependsOn = append(t.DependsOn, k)
			}
		}
		out = append(out, t)
	}
	return out
}

// Tasks returns the job's tasks with their dependencies, in file order.
func (j *Job) Tasks() []Task { return jobTasks(j) }

func details(b *Bundle, r Resource) string {
	switch r.Type {
	case "jobs":
		if j := b.Jobs[r.Key]; j != nil {
			n := len(jobTasks(j))
			if n == 1 {
				return "1 task"
			}
			return fmt.Sprintf("%d tasks", n)
		}
	case "model_serving_endpoints":
		if e := b.ServingEndpoints[r.Key]; e != nil {
			cfg, _ := e.Config["config"].(map[string]any)
			var names []string
			for _, list := range []string{"served_entities", "served_models"} {
				items, _ := cfg[list].([]any)
				for _, it := range items {
					m, _ := it.(map[string]any)
					name, _ := m["entity_name"].(string)
					ver := fmt.Sprint(m["entity_version"])
					if name == "" {
						name, _ = m["model_name"].(string)
						ver = fmt.Sprint(m["model_version"])
					}
					if ver != "<nil>" && ver != "" {
						name += " v" + ver
					}
					names = append(names, name)
				}
			}
			sort.Strings(names)
			return strings.Join(names, ", ")
		}
	}
	return ""
}

// Mermaid renders tasks as a mermaid `graph TD` flowchart: one node per task
// and an edge from each dependency to its dependent.
func Mermaid(tasks []Task) string {
	g := mermaid.Graph{Direction: "TD"}
	id := map[string]string{}
	for i, t := range tasks {
		id[t.Key] = fmt.Sprintf("t%d", i)
		g.Nodes = append(g.Nodes, mermaid.Node{ID: id[t.Key], Label: t.Key})
	}
	for _, t := range tasks {
		for _, d := range t.DependsOn {
			if from, ok := id[d]; ok {
				g.Edges = append(g.Edges, mermaid.Edge{From: from, To: id[t.Key]})
			}
		}
	}
	return g.String()
}
