//! The route table: each RPC's `google.api.http` rule (and its
//! `additional_bindings`) read from the descriptor pool, its path template
//! parsed, and a matcher that picks the most specific template.

use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

/// One segment of a path template (google/api/http.proto's grammar).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Matches itself only.
    Literal(String),
    /// `{field}` or `{field=*}`: one segment, bound to `field`.
    Var(String),
    /// `{field=**}`: one or more segments (slashes kept), bound to `field`.
    VarRest(String),
    /// `*`: one segment, unbound.
    Any,
    /// `**`: one or more segments, unbound.
    AnyRest,
}

/// A parsed path template such as `/cosmos/bank/v1beta1/balances/{address}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    pub segments: Vec<Segment>,
    /// `:verb` suffix of the last segment, if any.
    pub verb: Option<String>,
}

impl PathTemplate {
    pub fn parse(template: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("path template {template:?}: {why}");
        let rest = template.strip_prefix('/').ok_or_else(|| bad("must start with '/'"))?;
        // The verb is after the last ':' outside braces.
        let (body, verb) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('}') => (&rest[..i], Some(rest[i + 1..].to_string())),
            _ => (rest, None),
        };
        let mut segments = Vec::new();
        let mut chars = body;
        while !chars.is_empty() {
            if let Some(after) = chars.strip_prefix('{') {
                let end = after.find('}').ok_or_else(|| bad("unclosed '{'"))?;
                let inner = &after[..end];
                let (field, pattern) = inner.split_once('=').unwrap_or((inner, "*"));
                if field.is_empty() {
                    return Err(bad("empty variable name"));
                }
                segments.push(match pattern {
                    "*" => Segment::Var(field.to_string()),
                    "**" => Segment::VarRest(field.to_string()),
                    other => return Err(bad(&format!("variable pattern {other:?} is not supported (only * and **)"))),
                });
                chars = &after[end + 1..];
            } else {
                let end = chars.find('/').unwrap_or(chars.len());
                let seg = &chars[..end];
                segments.push(match seg {
                    "" => return Err(bad("empty segment")),
                    "*" => Segment::Any,
                    "**" => Segment::AnyRest,
                    lit => Segment::Literal(lit.to_string()),
                });
                chars = &chars[end..];
            }
            if let Some(next) = chars.strip_prefix('/') {
                if next.is_empty() {
                    return Err(bad("trailing '/'"));
                }
                chars = next;
            } else if !chars.is_empty() {
                return Err(bad("expected '/' after a variable"));
            }
        }
        Ok(PathTemplate { segments, verb })
    }

    /// Match `path` (still percent-encoded) and return the bound variables,
    /// decoded. A single-segment variable's value is fully decoded; a `**`
    /// variable keeps its slashes.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let path = path.strip_prefix('/')?;
        let (path, verb) = match (&self.verb, path.rsplit_once(':')) {
            (Some(_), Some((p, v))) if !v.contains('/') => (p, Some(v)),
            _ => (path, None),
        };
        if verb != self.verb.as_deref() {
            return None;
        }
        let parts: Vec<&str> = if path.is_empty() { vec![] } else { path.split('/').collect() };
        let mut bound = Vec::new();
        match_from(&self.segments, &parts, &mut bound).then_some(bound)
    }

    /// Sort key: literals before variables before `**`, segment by segment.
    fn specificity(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Var(_) | Segment::Any => 1,
                Segment::VarRest(_) | Segment::AnyRest => 2,
            })
            .collect()
    }
}

fn match_from(segs: &[Segment], parts: &[&str], bound: &mut Vec<(String, String)>) -> bool {
    let Some((seg, rest)) = segs.split_first() else { return parts.is_empty() };
    match seg {
        Segment::Literal(l) => parts.first().is_some_and(|p| percent_decode(p).as_deref() == Some(l.as_str())) && match_from(rest, &parts[1..], bound),
        Segment::Var(_) | Segment::Any => {
            let Some(p) = parts.first() else { return false };
            let Some(value) = percent_decode(p) else { return false };
            if p.is_empty() {
                return false;
            }
            let mark = bound.len();
            if let Segment::Var(f) = seg {
                bound.push((f.clone(), value));
            }
            if match_from(rest, &parts[1..], bound) {
                return true;
            }
            bound.truncate(mark);
            false
        }
        Segment::VarRest(_) | Segment::AnyRest => {
            // Take as many segments as leave enough for the rest; longest first.
            for take in (1..=parts.len()).rev() {
                let joined = parts[..take].join("/");
                let Some(value) = percent_decode(&joined) else { return false };
                if value.is_empty() {
                    continue;
                }
                let mark = bound.len();
                if let Segment::VarRest(f) = seg {
                    bound.push((f.clone(), value));
                }
                if match_from(rest, &parts[take..], bound) {
                    return true;
                }
                bound.truncate(mark);
            }
            false
        }
    }
}

/// Decode `%XX` escapes; `None` if they are malformed or not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An HTTP binding of one RPC.
#[derive(Clone, Debug)]
pub struct Route {
    pub http_method: String,
    pub template: PathTemplate,
    /// The rule's `body`: `""` (none), `"*"` (the whole request) or a field.
    pub body: String,
    pub method: MethodDescriptor,
}

impl Route {
    /// The gRPC path, `/package.Service/Method`.
    pub fn grpc_path(&self) -> String {
        format!("/{}/{}", self.method.parent_service().full_name(), self.method.name())
    }
}

/// What a request's method and path resolved to.
pub enum Lookup<'a> {
    Found(&'a Route, Vec<(String, String)>),
    /// The path is served, but not for this HTTP method.
    WrongMethod,
    NotFound,
}

#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Every `google.api.http` binding of every service in `pool`.
    pub fn from_pool(pool: &DescriptorPool) -> Result<Self, String> {
        let Some(http) = pool.get_extension_by_name("google.api.http") else {
            return Ok(RouteTable::default());
        };
        let mut routes = Vec::new();
        for service in pool.services() {
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&http) {
                    continue;
                }
                let rule = options.get_extension(&http);
                let Some(rule) = rule.as_message() else { continue };
                let mut rules = vec![rule.clone()];
                if let Some(Value::List(more)) = rule.get_field_by_name("additional_bindings").as_deref() {
                    rules.extend(more.iter().filter_map(|v| v.as_message().cloned()));
                }
                for r in rules {
                    if method.is_client_streaming() || method.is_server_streaming() {
                        continue;
                    }
                    routes.push(route_of_rule(&r, &method)?);
                }
            }
        }
        Ok(RouteTable { routes })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The most specific route matching `path` for `http_method`; among
    /// equally specific ones, the first declared.
    pub fn lookup(&self, http_method: &str, path: &str) -> Lookup<'_> {
        let mut best: Option<(&Route, Vec<(String, String)>)> = None;
        let mut other_method = false;
        for r in &self.routes {
            let Some(bound) = r.template.matches(path) else { continue };
            if r.http_method != http_method {
                other_method = true;
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| r.template.specificity() < b.template.specificity()) {
                best = Some((r, bound));
            }
        }
        match best {
            Some((r, bound)) => Lookup::Found(r, bound),
            None if other_method => Lookup::WrongMethod,
            None => Lookup::NotFound,
        }
    }
}

fn route_of_rule(rule: &DynamicMessage, method: &MethodDescriptor) -> Result<Route, String> {
    let text = |name: &str| rule.get_field_by_name(name).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let (verb, path) = ["get", "put", "post", "delete", "patch"]
        .iter()
        .find_map(|v| rule.has_field_by_name(v).then(|| (v.to_uppercase(), text(v))))
        .or_else(|| {
            let custom = rule.get_field_by_name("custom")?;
            let c = custom.as_message()?;
            let kind = c.get_field_by_name("kind")?.as_str()?.to_string();
            let path = c.get_field_by_name("path")?.as_str()?.to_string();
            Some((kind, path))
        })
        .ok_or_else(|| format!("{}: google.api.http rule has no pattern", method.full_name()))?;
    let template = PathTemplate::parse(&path).map_err(|e| format!("{}: {e}", method.full_name()))?;
    Ok(Route { http_method: verb, template, body: text("body"), method: method.clone() })
}
