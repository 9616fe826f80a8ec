package emulator

import (
	"io"
	"net/http"
)

// routes is the table of emulated endpoints. Paths follow databricks-sdk-go
// v0.175.0 (service/*/impl.go) and the Databricks CLI.
func (s *Server) routes() []route {
	return []route{
		{pattern: "GET /.well-known/databricks-config", public: true, handler: handleHostMetadata},
		{pattern: "GET /oidc/.well-known/oauth-authorization-server", public: true, handler: handleOIDCDiscovery},
		{pattern: "GET /api/2.0/preview/scim/v2/Me", handler: handleMe},

		{pattern: "POST /api/2.0/workspace/mkdirs", handler: handleMkdirs},
		{pattern: "POST /api/2.0/workspace/import", handler: handleImport},
		{pattern: "GET /api/2.0/workspace/export", handler: handleExport},
		{pattern: "GET /api/2.0/workspace/get-status", handler: handleGetStatus},
		{pattern: "GET /api/2.0/workspace/list", handler: handleList},
		{pattern: "POST /api/2.0/workspace/delete", handler: handleDelete},
		{pattern: "POST /api/2.0/workspace-files/import-file/{path...}", handler: handleImportFile},
		{pattern: "GET /api/2.0/workspace-files/{path...}", handler: handleReadFile},

		{pattern: "POST /api/2.2/jobs/create", handler: handleJobCreate},
		{pattern: "POST /api/2.2/jobs/reset", handler: handleJobReset},
		{pattern: "POST /api/2.2/jobs/update", handler: handleJobUpdate},
		{pattern: "POST /api/2.2/jobs/delete", handler: handleJobDelete},
		{pattern: "GET /api/2.2/jobs/get", handler: handleJobGet},
		{pattern: "GET /api/2.2/jobs/list", handler: handleJobList},
		{pattern: "POST /api/2.2/jobs/run-now", handler: handleRunNow},
		{pattern: "GET /api/2.2/jobs/runs/get", handler: handleRunGet},
		{pattern: "GET /api/2.2/jobs/runs/get-output", handler: handleRunOutput},
		{pattern: "POST /api/2.2/jobs/runs/cancel", handler: handleRunCancel},
		{pattern: "POST /api/2.2/jobs/runs/cancel-all", handler: handleRunCancelAll},
		{pattern: "GET /api/2.2/jobs/runs/list", handler: handleRunList},

		{pattern: "GET /api/2.0/permissions/{type}/{id}", handler: handlePermissionsGet},
		{pattern: "PUT /api/2.0/permissions/{type}/{id}", handler: handlePermissionsSet},
		{pattern: "PATCH /api/2.0/permissions/{type}/{id}", handler: handlePermissionsUpdate},
		{pattern: "GET /api/2.0/permissions/{type}/{id}/permissionLevels", handler: handlePermissionLevels},

		{pattern: "POST /api/2.0/serving-endpoints", handler: handleEndpointCreate},
		{pattern: "GET /api/2.0/serving-endpoints", handler: handleEndpointList},
		{pattern: "GET /api/2.0/serving-endpoints/{name}", handler: handleEndpointGet},
		{pattern: "PUT /api/2.0/serving-endpoints/{name}/config", handler: handleEndpointUpdateConfig},
		{pattern: "DELETE /api/2.0/serving-endpoints/{name}", handler: handleEndpointDelete},

		{pattern: "GET /api/2.1/unity-catalog/catalogs", handler: handleCatalogList},
		{pattern: "GET /api/2.1/unity-catalog/catalogs/{name}", handler: handleCatalogGet},
		{pattern: "POST /api/2.1/unity-catalog/schemas", handler: handleSchemaCreate},
		{pattern: "GET /api/2.1/unity-catalog/schemas", handler: handleSchemaList},
		{pattern: "GET /api/2.1/unity-catalog/schemas/{name}", handler: handleSchemaGet},
		{pattern: "PATCH /api/2.1/unity-catalog/schemas/{name}", handler: handleSchemaUpdate},
		{pattern: "DELETE /api/2.1/unity-catalog/schemas/{name}", handler: handleSchemaDelete},
		{pattern: "POST /api/2.1/unity-catalog/volumes", handler: handleVolumeCreate},
		{pattern: "GET /api/2.1/unity-catalog/volumes", handler: handleVolumeList},
		{pattern: "GET /api/2.1/unity-catalog/volumes/{name}", handler: handleVolumeGet},
		{pattern: "PATCH /api/2.1/unity-catalog/volumes/{name}", handler: handleVolumeUpdate},
		{pattern: "DELETE /api/2.1/unity-catalog/volumes/{name}", handler: handleVolumeDelete},
		{pattern: "POST /api/2.1/unity-catalog/models", handler: handleUCModelCreate},
		{pattern: "GET /api/2.1/unity-catalog/models", handler: handleUCModelList},
		{pattern: "GET /api/2.1/unity-catalog/models/{name}", handler: handleUCModelGet},
		{pattern: "PATCH /api/2.1/unity-catalog/models/{name}", handler: handleUCModelUpdate},
		{pattern: "DELETE /api/2.1/unity-catalog/models/{name}", handler: handleUCModelDelete},
		{pattern: "GET /api/2.1/unity-catalog/tables", handler: handleTableList},
		{pattern: "GET /api/2.1/unity-catalog/tables/{name}", handler: handleTableGet},
		{pattern: "GET /api/2.1/unity-catalog/tables/{name}/exists", handler: handleTableExists},
		{pattern: "POST /api/2.1/unity-catalog/tables/{name}/monitor", handler: handleMonitorCreate},
		{pattern: "GET /api/2.1/unity-catalog/tables/{name}/monitor", handler: handleMonitorGet},
		{pattern: "PUT /api/2.1/unity-catalog/tables/{name}/monitor", handler: handleMonitorUpdate},
		{pattern: "DELETE /api/2.1/unity-catalog/tables/{name}/monitor", handler: handleMonitorDelete},
		{pattern: "POST /api/2.1/unity-catalog/tables/{name}/monitor/refreshes", handler: handleMonitorRunRefresh},
		{pattern: "GET /api/2.1/unity-catalog/tables/{name}/monitor/refreshes", handler: handleMonitorListRefreshes},
		{pattern: "GET /api/2.1/unity-catalog/tables/{name}/monitor/refreshes/{refresh}", handler: handleMonitorGetRefresh},
		{pattern: "POST /api/2.1/unity-catalog/tables/{name}/monitor/refreshes/{refresh}/cancel", handler: handleMonitorCancelRefresh},
		{pattern: "GET /api/2.1/unity-catalog/permissions/{type}/{name}", handler: handleGrantsGet},
		{pattern: "PATCH /api/2.1/unity-catalog/permissions/{type}/{name}", handler: handleGrantsUpdate},

		{pattern: "POST /api/2.0/mlflow/experiments/create", handler: handleExperimentCreate},
		{pattern: "GET /api/2.0/mlflow/experiments/get", handler: handleExperimentGet},
		{pattern: "GET /api/2.0/mlflow/experiments/get-by-name", handler: handleExperimentGetByName},
		{pattern: "POST /api/2.0/mlflow/experiments/update", handler: handleExperimentUpdate},
		{pattern: "POST /api/2.0/mlflow/experiments/delete", handler: handleExperimentDelete},
		{pattern: "POST /api/2.0/mlflow/experiments/restore", handler: handleExperimentRestore},
		{pattern: "POST /api/2.0/mlflow/experiments/set-experiment-tag", handler: handleExperimentSetTag},
		{pattern: "GET /api/2.0/mlflow/experiments/list", handler: handleExperimentList},
		{pattern: "POST /api/2.0/mlflow/experiments/search", handler: handleExperimentSearch},

		{pattern: "POST /api/2.0/mlflow/registered-models/create", handler: handleRegistryCreate},
		{pattern: "GET /api/2.0/mlflow/databricks/registered-models/get", handler: handleRegistryGet},
		{pattern: "PATCH /api/2.0/mlflow/registered-models/update", handler: handleRegistryUpdate},
		{pattern: "POST /api/2.0/mlflow/registered-models/rename", handler: handleRegistryRename},
		{pattern: "DELETE /api/2.0/mlflow/registered-models/delete", handler: handleRegistryDelete},
		{pattern: "POST /api/2.0/mlflow/registered-models/set-tag", handler: handleRegistrySetTag},
		{pattern: "DELETE /api/2.0/mlflow/registered-models/delete-tag", handler: handleRegistryDeleteTag},
		{pattern: "GET /api/2.0/mlflow/registered-models/list", handler: handleRegistryList},

		{pattern: "POST /api/2.0/pipelines", handler: handlePipelineCreate},
		{pattern: "GET /api/2.0/pipelines", handler: handlePipelineList},
		{pattern: "GET /api/2.0/pipelines/{id}", handler: handlePipelineGet},
		{pattern: "PUT /api/2.0/pipelines/{id}", handler: handlePipelineEdit},
		{pattern: "DELETE /api/2.0/pipelines/{id}", handler: handlePipelineDelete},
		{pattern: "POST /api/2.0/pipelines/{id}/updates", handler: handlePipelineStartUpdate},
		{pattern: "GET /api/2.0/pipelines/{id}/updates", handler: handlePipelineListUpdates},
		{pattern: "GET /api/2.0/pipelines/{id}/updates/{update}", handler: handlePipelineGetUpdate},
		{pattern: "POST /api/2.0/pipelines/{id}/stop", handler: handlePipelineStop},
		{pattern: "GET /api/2.0/pipelines/{id}/events", handler: handlePipelineEvents},

		{pattern: "POST /api/2.1/clusters/create", handler: handleClusterCreate},
		{pattern: "GET /api/2.1/clusters/get", handler: handleClusterGet},
		{pattern: "GET /api/2.1/clusters/list", handler: handleClusterList},
		{pattern: "POST /api/2.1/clusters/edit", handler: handleClusterEdit},
		{pattern: "POST /api/2.1/clusters/start", handler: handleClusterStart},
		{pattern: "POST /api/2.1/clusters/delete", handler: handleClusterDelete},
		{pattern: "POST /api/2.1/clusters/permanent-delete", handler: handleClusterPermanentDelete},

		{pattern: "POST /api/2.0/sql/warehouses", handler: handleWarehouseCreate},
		{pattern: "GET /api/2.0/sql/warehouses", handler: handleWarehouseList},
		{pattern: "GET /api/2.0/sql/warehouses/{id}", handler: handleWarehouseGet},
		{pattern: "POST /api/2.0/sql/warehouses/{id}/edit", handler: handleWarehouseEdit},
		{pattern: "POST /api/2.0/sql/warehouses/{id}/start", handler: handleWarehouseStart},
		{pattern: "POST /api/2.0/sql/warehouses/{id}/stop", handler: handleWarehouseStop},
		{pattern: "DELETE /api/2.0/sql/warehouses/{id}", handler: handleWarehouseDelete},

		{pattern: "POST /api/2.0/secrets/scopes/create", handler: handleScopeCreate},
		{pattern: "GET /api/2.0/secrets/scopes/list", handler: handleScopeList},
		{pattern: "POST /api/2.0/secrets/scopes/delete", handler: handleScopeDelete},
		{pattern: "POST /api/2.0/secrets/acls/put", handler: handleACLPut},
		{pattern: "POST /api/2.0/secrets/acls/delete", handler: handleACLDelete},
		{pattern: "GET /api/2.0/secrets/acls/get", handler: handleACLGet},
		{pattern: "GET /api/2.0/secrets/acls/list", handler: handleACLList},

		{pattern: "POST /api/2.0/lakeview/dashboards", handler: handleDashboardCreate},
		{pattern: "GET /api/2.0/lakeview/dashboards", handler: handleDashboardList},
		{pattern: "GET /api/2.0/lakeview/dashboards/{id}", handler: handleDashboardGet},
		{pattern: "PATCH /api/2.0/lakeview/dashboards/{id}", handler: handleDashboardUpdate},
		{pattern: "DELETE /api/2.0/lakeview/dashboards/{id}", handler: handleDashboardTrash},
		{pattern: "POST /api/2.0/lakeview/dashboards/{id}/published", handler: handleDashboardPublish},
		{pattern: "GET /api/2.0/lakeview/dashboards/{id}/published", handler: handleDashboardGetPublished},

		{pattern: "POST /api/2.0/apps", handler: handleAppCreate},
		{pattern: "GET /api/2.0/apps", handler: handleAppList},
		{pattern: "GET /api/2.0/apps/{name}", handler: handleAppGet},
		{pattern: "DELETE /api/2.0/apps/{name}", handler: handleAppDelete},
		{pattern: "POST /api/2.0/apps/{name}/update", handler: handleAppUpdate},
		{pattern: "GET /api/2.0/apps/{name}/update", handler: handleAppGetUpdate},
		{pattern: "POST /api/2.0/apps/{name}/deployments", handler: handleAppDeploy},
		{pattern: "GET /api/2.0/apps/{name}/deployments/{deployment}", handler: handleAppGetDeployment},
		{pattern: "POST /api/2.0/apps/{name}/start", handler: handleAppStart},
		{pattern: "POST /api/2.0/apps/{name}/stop", handler: handleAppStop},

		{pattern: "POST /api/2.0/alerts", handler: handleAlertCreate},
		{pattern: "GET /api/2.0/alerts", handler: handleAlertList},
		{pattern: "GET /api/2.0/alerts/{id}", handler: handleAlertGet},
		{pattern: "PATCH /api/2.0/alerts/{id}", handler: handleAlertUpdate},
		{pattern: "DELETE /api/2.0/alerts/{id}", handler: handleAlertTrash},
	}
}

// registerToken serves the OAuth token endpoint, which answers with OAuth
// error bodies and so bypasses the Databricks error handling of serveAPI.
func (s *Server) registerToken() {
	s.api.HandleFunc("POST /oidc/v1/token", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "failed to read request body"})
			return
		}
		s.serveToken(w, r, body)
	})
}
