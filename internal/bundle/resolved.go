package bundle

// Resolved returns the bundle's resolved configuration as JSON-compatible
// values in databricks.yml's own shape (snake_case keys), for `--format json`
// and for comparing what two targets deploy.
func (b *Bundle) Resolved() map[string]any {
	out := map[string]any{
		"bundle": map[string]any{"name": b.Name, "target": b.Target, "mode": b.Mode},
		"workspace": map[string]any{
			"host":       b.Workspace.Host,
			"profile":    b.Workspace.Profile,
			"root_path":  b.Workspace.RootPath,
			"file_path":  b.Workspace.FilePath,
			"state_path": b.Workspace.StatePath,
			"current_user": map[string]any{
				"userName":    b.CurrentUser.UserName,
				"short_name":  b.CurrentUser.ShortName,
				"placeholder": b.CurrentUser.Placeholder,
			},
		},
		"variables": b.Variables,
		"sync":      map[string]any{"include": nonNil(b.Sync.Include), "exclude": nonNil(b.Sync.Exclude)},
	}
	if b.RunAs != nil {
		ra := map[string]any{}
		if b.RunAs.UserName != "" {
			ra["user_name"] = b.RunAs.UserName
		}
		if b.RunAs.ServicePrincipalName != "" {
			ra["service_principal_name"] = b.RunAs.ServicePrincipalName
		}
		out["run_as"] = ra
	}
	jobs := map[string]any{}
	for k, j := range b.Jobs {
		jobs[k] = withPermissions(j.Config, j.Permissions)
	}
	eps := map[string]any{}
	for k, e := range b.ServingEndpoints {
		eps[k] = withPermissions(e.Config, e.Permissions)
	}
	out["resources"] = map[string]any{"jobs": jobs, "model_serving_endpoints": eps}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func withPermissions(cfg map[string]any, perms []Permission) map[string]any {
	m := make(map[string]any, len(cfg)+1)
	for k, v := range cfg {
		m[k] = v
	}
	if len(perms) > 0 {
		list := make([]any, 0, len(perms))
		for _, p := range perms {
			e := map[string]any{"level": p.Level}
			for k, v := range map[string]string{"user_name": p.UserName, "group_name": p.GroupName, "service_principal_name": p.ServicePrincipalName} {
				if v != "" {
					e[k] = v
				}
			}
			list = append(list, e)
		}
		m["permissions"] = list
	}
	return m
}
