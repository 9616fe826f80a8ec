package emulator

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	wsapi "github.com/databricks/databricks-sdk-go/service/workspace"
)

type objectKind string

const (
	kindDirectory objectKind = "DIRECTORY"
	kindNotebook  objectKind = "NOTEBOOK"
	kindFile      objectKind = "FILE"
)

// object is one workspace object. Notebooks keep their source, including the
// header line, as content.
type object struct {
	path     string
	kind     objectKind
	language wsapi.Language
	content  []byte
	id       int64
	created  time.Time
	modified time.Time
}

func (o *object) info() wsapi.ObjectInfo {
	info := wsapi.ObjectInfo{
		ObjectType: wsapi.ObjectType(o.kind),
		Path:       o.path,
		ObjectId:   o.id,
		CreatedAt:  millis(o.created),
		ModifiedAt: millis(o.modified),
		ResourceId: strconv.FormatInt(o.id, 10),
		Language:   o.language,
	}
	if o.kind == kindFile || o.kind == kindNotebook {
		info.Size = int64(len(o.content))
		info.ForceSendFields = []string{"Size"}
	}
	return info
}

// notebookHeaders maps the first line of a notebook source to its languages;
// "#" is shared by Python and R, so the extension decides between them.
var notebookHeaders = []struct {
	header string
	langs  []wsapi.Language
}{
	{"# Databricks notebook source", []wsapi.Language{wsapi.LanguagePython, wsapi.LanguageR}},
	{"-- Databricks notebook source", []wsapi.Language{wsapi.LanguageSql}},
	{"// Databricks notebook source", []wsapi.Language{wsapi.LanguageScala}},
}

var extLanguages = map[string]wsapi.Language{
	".py":    wsapi.LanguagePython,
	".sql":   wsapi.LanguageSql,
	".scala": wsapi.LanguageScala,
	".r":     wsapi.LanguageR,
}

var languageHeaders = map[wsapi.Language]string{
	wsapi.LanguagePython: "# Databricks notebook source",
	wsapi.LanguageR:      "# Databricks notebook source",
	wsapi.LanguageSql:    "-- Databricks notebook source",
	wsapi.LanguageScala:  "// Databricks notebook source",
}

var languageExt = map[wsapi.Language]string{
	wsapi.LanguagePython: "py",
	wsapi.LanguageSql:    "sql",
	wsapi.LanguageScala:  "scala",
	wsapi.LanguageR:      "r",
}

// detectNotebook reports the language of content when its first line is a
// notebook header, and the path with the matching extension removed.
func detectNotebook(p string, content []byte) (wsapi.Language, string, bool) {
	first, _, _ := bytes.Cut(content, []byte("\n"))
	first = bytes.TrimRight(first, "\r ")
	ext := path.Ext(p)
	extLang, hasExt := extLanguages[strings.ToLower(ext)]
	for _, h := range notebookHeaders {
		if string(first) != h.header {
			continue
		}
		if hasExt {
			if slices.Contains(h.langs, extLang) {
				return extLang, strings.TrimSuffix(p, ext), true
			}
			return "", p, false
		}
		return h.langs[0], p, true
	}
	return "", p, false
}

// cleanPath validates a workspace path and returns its canonical form: the
// "/Workspace" prefix is an alias of the root and is removed.
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", errInvalidParameter("path is required")
	}
	if !strings.HasPrefix(p, "/") {
		return "", errInvalidParameter("path %q is not absolute", p)
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "", errInvalidParameter("path %q must not contain \"..\"", p)
	}
	c := path.Clean(p)
	if c == "/Workspace" {
		return "/", nil
	}
	if rest, ok := strings.CutPrefix(c, "/Workspace/"); ok {
		return "/" + rest, nil
	}
	return c, nil
}

func (ws *workspace) lookup(p string) (*object, error) {
	o, ok := ws.objects[p]
	if !ok {
		return nil, errDoesNotExist("path (%s) doesn't exist", p)
	}
	return o, nil
}

func (ws *workspace) children(dir string) []*object {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	var out []*object
	for p, o := range ws.objects {
		if p != dir && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *object) int { return strings.Compare(a.path, b.path) })
	return out
}

func (ws *workspace) mkdirs(p string, now time.Time) error {
	var missing []string
	for cur := p; ; cur = path.Dir(cur) {
		o, ok := ws.objects[cur]
		if ok {
			if o.kind != kindDirectory {
				return errAlreadyExists("cannot create directory %q: %q exists and is not a directory", p, cur)
			}
			break
		}
		missing = append(missing, cur)
		if cur == "/" {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		ws.objects[missing[i]] = &object{path: missing[i], kind: kindDirectory, id: ws.newID(), created: now, modified: now}
	}
	return nil
}

// put stores a notebook or file at p, enforcing the parent and overwrite
// rules of the import API.
func (ws *workspace) put(p string, kind objectKind, lang wsapi.Language, content []byte, overwrite bool, now time.Time) error {
	if p == "/" {
		return errInvalidParameter("path %q is not a valid object path", p)
	}
	parent, ok := ws.objects[path.Dir(p)]
	if !ok || parent.kind != kindDirectory {
		return errDoesNotExist("the parent folder (%s) does not exist", path.Dir(p))
	}
	existing, exists := ws.objects[p]
	if exists {
		if existing.kind == kindDirectory {
			return errAlreadyExists("path (%s) already exists and is a directory", p)
		}
		if existing.kind == kindExperiment {
			return errAlreadyExists("path (%s) already exists and is an MLflow experiment", p)
		}
		if !overwrite {
			return errAlreadyExists("path (%s) already exists", p)
		}
	}
	// A notebook and a file of the same name would collide once the
	// notebook is exported with its extension; Databricks refuses both ways.
	if kind == kindNotebook {
		if other, ok := ws.objects[p+"."+languageExt[lang]]; ok && other.kind == kindFile {
			return errAlreadyExists("a file named %q already exists", other.path)
		}
	}
	o := &object{path: p, kind: kind, language: lang, content: bytes.Clone(content), id: ws.newID(), created: now, modified: now}
	if exists {
		o.id, o.created = existing.id, existing.created
	}
	ws.objects[p] = o
	return nil
}

// importRequest is the import body, whether it came as JSON or multipart.
type importRequest struct {
	path      string
	format    wsapi.ImportFormat
	language  wsapi.Language
	overwrite bool
	content   []byte
}

func parseImport(c *call) (importRequest, error) {
	mediaType, params, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		return parseMultipartImport(c.body, params["boundary"])
	}
	var req wsapi.Import
	if err := c.decode(&req); err != nil {
		return importRequest{}, err
	}
	content, err := base64.StdEncoding.DecodeString(req.Content)
	if err != nil {
		return importRequest{}, errInvalidParameter("content is not valid base64: %v", err)
	}
	return importRequest{path: req.Path, format: req.Format, language: req.Language, overwrite: req.Overwrite, content: content}, nil
}

func parseMultipartImport(body []byte, boundary string) (importRequest, error) {
	if boundary == "" {
		return importRequest{}, errMalformed("multipart body has no boundary")
	}
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(maxBodyBytes)
	if err != nil {
		return importRequest{}, errMalformed("failed to parse multipart body: %v", err)
	}
	defer func() { _ = form.RemoveAll() }()
	value := func(name string) string {
		if v := form.Value[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	req := importRequest{
		path:      value("path"),
		format:    wsapi.ImportFormat(value("format")),
		language:  wsapi.Language(value("language")),
		overwrite: value("overwrite") == "true",
	}
	files := form.File["content"]
	switch {
	case len(files) > 0:
		f, err := files[0].Open()
		if err != nil {
			return importRequest{}, errMalformed("failed to read multipart content: %v", err)
		}
		defer f.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(f); err != nil {
			return importRequest{}, errMalformed("failed to read multipart content: %v", err)
		}
		req.content = buf.Bytes()
	case len(form.Value["content"]) > 0:
		req.content = []byte(value("content"))
	}
	return req, nil
}

func handleImport(s *Server, c *call) (any, error) {
	req, err := parseImport(c)
	if err != nil {
		return nil, err
	}
	p, err := cleanPath(req.path)
	if err != nil {
		return nil, err
	}
	kind, lang, content := kindNotebook, req.language, req.content
	switch req.format {
	case "", wsapi.ImportFormatSource:
		if lang == "" {
			return nil, errInvalidParameter("the language field is required when importing %q with format %q", req.path, wsapi.ImportFormatSource)
		}
		if _, ok := languageHeaders[lang]; !ok {
			return nil, errInvalidParameter("unknown language %q", lang)
		}
	case wsapi.ImportFormatAuto:
		if strings.HasSuffix(strings.ToLower(p), ".ipynb") {
			lang, content, err = fromJupyter(content)
			if err != nil {
				return nil, err
			}
			p = strings.TrimSuffix(p, path.Ext(p))
		} else if l, stripped, ok := detectNotebook(p, content); ok {
			lang, p = l, stripped
		} else {
			kind, lang = kindFile, ""
		}
	case wsapi.ImportFormatRaw:
		kind, lang = kindFile, ""
	case wsapi.ImportFormatJupyter:
		lang, content, err = fromJupyter(content)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(strings.ToLower(p), ".ipynb") {
			p = strings.TrimSuffix(p, path.Ext(p))
		}
	case wsapi.ImportFormatDbc, wsapi.ImportFormatHtml, wsapi.ImportFormatRMarkdown:
		return nil, errInvalidParameter("the workspace emulator does not import format %q; use AUTO, JUPYTER, RAW or SOURCE", req.format)
	default:
		return nil, errInvalidParameter("unsupported import format %q, valid are %q", req.format,
			[]string{"AUTO", "DBC", "HTML", "JUPYTER", "RAW", "R_MARKDOWN", "SOURCE"})
	}
	if kind == kindNotebook {
		content = withHeader(lang, content)
	}
	return nil, c.ws.put(p, kind, lang, content, req.overwrite, c.now)
}

// withHeader makes sure notebook source starts with its header line, as
// Databricks exports it.
func withHeader(lang wsapi.Language, content []byte) []byte {
	header := languageHeaders[lang]
	if bytes.HasPrefix(content, []byte(header)) {
		return content
	}
	return append([]byte(header+"\n"), content...)
}

// jupyter is the part of an .ipynb document the emulator reads and writes.
type jupyter struct {
	Cells    []jupyterCell  `json:"cells"`
	Metadata map[string]any `json:"metadata"`
	Nbformat int            `json:"nbformat"`
	Minor    int            `json:"nbformat_minor"`
}

type jupyterCell struct {
	CellType string         `json:"cell_type"`
	Source   any            `json:"source"`
	Metadata map[string]any `json:"metadata"`
	Outputs  []any          `json:"outputs,omitempty"`
}

const commandSeparator = "\n\n# COMMAND ----------\n\n"

func fromJupyter(content []byte) (wsapi.Language, []byte, error) {
	var nb jupyter
	if err := json.Unmarshal(content, &nb); err != nil {
		return "", nil, errInvalidParameter("content is not a valid jupyter notebook: %v", err)
	}
	var cells []string
	for _, cell := range nb.Cells {
		switch src := cell.Source.(type) {
		case string:
			cells = append(cells, src)
		case []any:
			var b strings.Builder
			for _, line := range src {
				if s, ok := line.(string); ok {
					b.WriteString(s)
				}
			}
			cells = append(cells, b.String())
		}
	}
	return wsapi.LanguagePython, []byte(strings.Join(cells, commandSeparator)), nil
}

func toJupyter(o *object) ([]byte, error) {
	src := strings.TrimPrefix(string(o.content), languageHeaders[o.language]+"\n")
	nb := jupyter{Metadata: map[string]any{"language_info": map[string]any{"name": strings.ToLower(string(o.language))}}, Nbformat: 4, Minor: 0}
	for _, cell := range strings.Split(src, commandSeparator) {
		nb.Cells = append(nb.Cells, jupyterCell{CellType: "code", Source: cell, Metadata: map[string]any{}, Outputs: []any{}})
	}
	return json.Marshal(nb)
}

// objectAt looks up the workspace object named by a query parameter.
func (c *call) objectAt(param string) (*object, error) {
	p, err := cleanPath(c.query(param))
	if err != nil {
		return nil, err
	}
	return c.ws.lookup(p)
}

func handleExport(s *Server, c *call) (any, error) {
	o, err := c.objectAt("path")
	if err != nil {
		return nil, err
	}
	format := wsapi.ExportFormat(c.query("format"))
	if o.kind == kindExperiment {
		return nil, errInvalidParameter("%s is an MLflow experiment, which cannot be exported", o.path)
	}
	if o.kind == kindDirectory {
		return exportDirectory(c, o, format)
	}
	content := o.content
	switch format {
	case "", wsapi.ExportFormatSource, wsapi.ExportFormatAuto, wsapi.ExportFormatRaw:
	case wsapi.ExportFormatJupyter:
		if o.kind != kindNotebook {
			return nil, errInvalidParameter("cannot export file %q with format %q", o.path, format)
		}
		if content, err = toJupyter(o); err != nil {
			return nil, err
		}
	default:
		return nil, errInvalidParameter("unsupported export format %q", format)
	}
	fileType := ""
	if o.kind == kindNotebook {
		fileType = languageExt[o.language]
	}
	return exported(c, content, fileType)
}

// maxExportBytes is the size limit of an export, 10 MB in Databricks.
const maxExportBytes = 10 << 20

// exported answers an export: the content as is with direct_download,
// else base64 in JSON, and MAX_NOTEBOOK_SIZE_EXCEEDED beyond the limit.
func exported(c *call, content []byte, fileType string) (any, error) {
	if len(content) > maxExportBytes {
		return nil, newError(http.StatusBadRequest, "MAX_NOTEBOOK_SIZE_EXCEEDED", "the exported content is %d bytes, more than the limit of %d", len(content), maxExportBytes)
	}
	if c.query("direct_download") == "true" {
		return rawBody{contentType: "application/octet-stream", data: content}, nil
	}
	return wsapi.ExportResponse{Content: base64.StdEncoding.EncodeToString(content), FileType: fileType}, nil
}

// exportDirectory exports a directory as a zip archive whose entries are
// named relative to the directory: with AUTO its notebooks (as source,
// with the extension of their language) and files, with SOURCE its
// notebooks only, as Databricks documents. Databricks also exports
// directories as DBC archives; the emulator does not.
func exportDirectory(c *call, dir *object, format wsapi.ExportFormat) (any, error) {
	switch format {
	case wsapi.ExportFormatAuto, "", wsapi.ExportFormatSource:
	case wsapi.ExportFormatDbc:
		return nil, errInvalidParameter("the workspace emulator does not export DBC archives; export %q with format AUTO or SOURCE", dir.path)
	default:
		return nil, errInvalidParameter("cannot export directory %q with format %q; directories are exported with DBC, SOURCE or AUTO", dir.path, format)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := strings.TrimSuffix(dir.path, "/") + "/"
	paths := make([]string, 0)
	for p, o := range c.ws.objects {
		if strings.HasPrefix(p, prefix) && (o.kind == kindFile || o.kind == kindNotebook) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		o := c.ws.objects[p]
		name := strings.TrimPrefix(p, prefix)
		switch {
		case o.kind == kindNotebook:
			name += "." + languageExt[o.language]
		case format != wsapi.ExportFormatAuto:
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: o.modified})
		if err != nil {
			return nil, fmt.Errorf("failed to write the archive of %q: %w", dir.path, err)
		}
		if _, err := w.Write(o.content); err != nil {
			return nil, fmt.Errorf("failed to write the archive of %q: %w", dir.path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("failed to write the archive of %q: %w", dir.path, err)
	}
	return exported(c, buf.Bytes(), "")
}

func handleGetStatus(s *Server, c *call) (any, error) {
	o, err := c.objectAt("path")
	if err != nil {
		return nil, err
	}
	return o.info(), nil
}

func handleList(s *Server, c *call) (any, error) {
	o, err := c.objectAt("path")
	if err != nil {
		return nil, err
	}
	resp := wsapi.ListResponse{}
	if o.kind != kindDirectory {
		resp.Objects = []wsapi.ObjectInfo{o.info()}
		return resp, nil
	}
	for _, child := range c.ws.children(o.path) {
		resp.Objects = append(resp.Objects, child.info())
	}
	return resp, nil
}

func handleMkdirs(s *Server, c *call) (any, error) {
	var req wsapi.Mkdirs
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := cleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	return nil, c.ws.mkdirs(p, c.now)
}

func handleDelete(s *Server, c *call) (any, error) {
	var req wsapi.Delete
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := cleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	o, err := c.ws.lookup(p)
	if err != nil {
		return nil, err
	}
	if p == "/" || p == "/Users" || p == "/Shared" || p == "/Users/"+c.ws.who.userName {
		return nil, errPermissionDenied("cannot delete %q", p)
	}
	if o.kind == kindDirectory {
		if len(c.ws.children(p)) > 0 && !req.Recursive {
			return nil, newError(http.StatusBadRequest, "DIRECTORY_NOT_EMPTY", "folder (%s) is not empty", p)
		}
		prefix := p + "/"
		for q := range c.ws.objects {
			if strings.HasPrefix(q, prefix) {
				c.ws.deleteObject(q, c.now)
			}
		}
	}
	c.ws.deleteObject(p, c.now)
	return nil, nil
}

// deleteObject removes the object at p; an experiment there is deleted as
// through the MLflow API.
func (ws *workspace) deleteObject(p string, now time.Time) {
	if o := ws.objects[p]; o != nil && o.kind == kindExperiment {
		if e := ws.experiments[strconv.FormatInt(o.id, 10)]; e != nil {
			ws.softDelete(e, millis(now))
		}
	}
	delete(ws.objects, p)
}

// handleImportFile is the workspace-files API the Databricks CLI writes with:
// the raw body is stored at the path in the URL. As in Databricks, a source
// file with a notebook extension (.py, .sql, .scala, .r) whose first line is
// the notebook header of its language becomes a notebook without the
// extension, and so does a Jupyter notebook (.ipynb); anything else is a
// file. Without overwrite=true an existing file answers 409
// RESOURCE_ALREADY_EXISTS and an existing notebook 400 with an empty error
// code and a message ending in "already exists.", which is what the CLI's
// filer expects of each.
func handleImportFile(s *Server, c *call) (any, error) {
	p, err := cleanPath("/" + strings.TrimPrefix(c.r.PathValue("path"), "/"))
	if err != nil {
		return nil, err
	}
	kind, lang, content := kindFile, wsapi.Language(""), c.body
	if strings.EqualFold(path.Ext(p), ".ipynb") {
		if lang, content, err = fromJupyter(content); err != nil {
			return nil, err
		}
		kind, p = kindNotebook, strings.TrimSuffix(p, path.Ext(p))
	} else if l, stripped, ok := detectNotebook(p, content); ok && stripped != p {
		kind, lang, p = kindNotebook, l, stripped
	}
	overwrite := c.query("overwrite") == "true"
	if existing, ok := c.ws.objects[p]; ok && !overwrite {
		switch existing.kind {
		case kindFile:
			return nil, newError(http.StatusConflict, "RESOURCE_ALREADY_EXISTS", "%s already exists.", p)
		case kindNotebook:
			return nil, newError(http.StatusBadRequest, "", "Path (%s) already exists.", p)
		}
	}
	if kind == kindNotebook {
		content = withHeader(lang, content)
	}
	return nil, c.ws.put(p, kind, lang, content, overwrite, c.now)
}

func handleReadFile(s *Server, c *call) (any, error) {
	p, err := cleanPath("/" + strings.TrimPrefix(c.r.PathValue("path"), "/"))
	if err != nil {
		return nil, err
	}
	o, err := c.ws.lookup(p)
	if err != nil {
		return nil, err
	}
	if o.kind != kindFile && o.kind != kindNotebook {
		return nil, errInvalidParameter("path (%s) is not a file", p)
	}
	return rawBody{contentType: "application/octet-stream", data: o.content}, nil
}
