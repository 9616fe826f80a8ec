package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/iam"
)

const (
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
)

// oauthError is the RFC 6749 error body the token endpoint answers with.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// handleHostMetadata serves /.well-known/databricks-config, which the SDK
// reads first to find the OIDC discovery URL of the host.
func handleHostMetadata(s *Server, c *call) (any, error) {
	return map[string]any{
		"oidc_endpoint": c.base + "/oidc",
		"host_type":     "WORKSPACE_HOST",
		"token_federation_default_oidc_audiences": []string{c.base + "/oidc/v1/token"},
	}, nil
}

// handleOIDCDiscovery serves the workspace OAuth authorization server
// metadata (RFC 8414).
func handleOIDCDiscovery(s *Server, c *call) (any, error) {
	return map[string]any{
		"issuer":                                c.base + "/oidc",
		"authorization_endpoint":                c.base + "/oidc/v1/authorize",
		"token_endpoint":                        c.base + "/oidc/v1/token",
		"jwks_uri":                              c.base + "/oidc/jwks.json",
		"grant_types_supported":                 []string{grantClientCredentials, grantTokenExchange, "authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"response_types_supported":              []string{"code"},
		"scopes_supported":                      []string{"all-apis", "offline_access"},
	}, nil
}

// tokenResponse is the RFC 6749 access token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// serveToken implements POST /oidc/v1/token. It answers with OAuth error
// bodies rather than Databricks ones, as the real endpoint does.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, err := s.issueToken(r, body)
	if err != nil {
		writeJSON(w, err.status, map[string]string{"error": err.code, "error_description": err.description})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) issueToken(r *http.Request, body []byte) (*tokenResponse, *oauthError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", fmt.Sprintf("failed to parse form body: %v", err)}
	}
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if clientID == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_client", "client_id is required"}
	}
	scope := form.Get("scope")
	if scope == "" {
		scope = "all-apis"
	}
	switch grant := form.Get("grant_type"); grant {
	case grantClientCredentials:
		if s.opts.ClientSecrets != nil {
			want, ok := s.opts.ClientSecrets[clientID]
			if !ok || want != secret {
				return nil, &oauthError{http.StatusUnauthorized, "invalid_client", fmt.Sprintf("client authentication failed for client id %q", clientID)}
			}
		} else if secret == "" {
			return nil, &oauthError{http.StatusUnauthorized, "invalid_client", fmt.Sprintf("client secret is required for client id %q", clientID)}
		}
	case grantTokenExchange:
		if t := form.Get("subject_token_type"); t != tokenTypeJWT {
			return nil, &oauthError{http.StatusBadRequest, "invalid_request", fmt.Sprintf("subject_token_type %q is not supported, use %q", t, tokenTypeJWT)}
		}
		if _, err := parseJWT(form.Get("subject_token")); err != nil {
			return nil, &oauthError{http.StatusBadRequest, "invalid_grant", fmt.Sprintf("subject token is invalid: %v", err)}
		}
	default:
		return nil, &oauthError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant type %q is not supported, use %q or %q", grant, grantClientCredentials, grantTokenExchange)}
	}
	token := "dose" + randomHex(16)
	s.mu.Lock()
	s.issued[token] = principal{workspace: clientID, userName: clientID, sp: true}
	s.mu.Unlock()
	return &tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: 3600, Scope: scope}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// parseJWT checks that token has the three parts of a JWT and returns its
// claims; signatures are not verified.
func parseJWT(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("token is not a jwt with three parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("failed to decode jwt payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("failed to parse jwt claims: %w", err)
	}
	return claims, nil
}

// handleGitHubOIDC stands in for the GitHub Actions ID token endpoint: with
// a bearer token it returns {"value": "<jwt>"} for the requested audience.
func (s *Server) handleGitHubOIDC(w http.ResponseWriter, r *http.Request) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || tok == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "bad credentials"})
		return
	}
	b64 := func(v any) string {
		data, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(data)
	}
	now := s.clock()
	claims := map[string]any{
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:example/project:environment:test",
		"aud": r.URL.Query().Get("audience"),
		"iat": now.Unix(),
		"exp": now.Unix() + 300,
	}
	jwt := b64(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + b64(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte("emulated-signature"))
	writeJSON(w, http.StatusOK, map[string]any{"count": 1, "value": jwt})
}

// handleMe implements SCIM Me: the user behind a personal access token, or
// the service principal behind an OAuth token.
func handleMe(s *Server, c *call) (any, error) {
	id := strconv.FormatInt(c.ws.userID, 10)
	u := iam.User{
		Id:       id,
		UserName: c.who.userName,
		Active:   true,
		Schemas:  []iam.UserSchema{iam.UserSchemaUrnIetfParamsScimSchemasCore20User},
		Groups: []iam.ComplexValue{
			{Display: "users", Value: strconv.FormatInt(stableID("users"), 10), Type: "direct", Ref: "Groups/" + strconv.FormatInt(stableID("users"), 10)},
		},
	}
	if c.who.sp {
		u.DisplayName = "service principal " + c.who.userName
		u.ExternalId = c.who.userName
	} else {
		u.DisplayName = displayName(c.who.userName)
		u.Emails = []iam.ComplexValue{{Value: c.who.userName, Type: "work", Primary: true}}
		u.Name = &iam.Name{GivenName: u.DisplayName}
		u.Groups = append(u.Groups, iam.ComplexValue{Display: "admins", Value: strconv.FormatInt(stableID("admins"), 10), Type: "direct", Ref: "Groups/" + strconv.FormatInt(stableID("admins"), 10)})
	}
	return u, nil
}

func displayName(userName string) string {
	local, _, _ := strings.Cut(userName, "@")
	return local
}
