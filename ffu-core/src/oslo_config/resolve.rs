//! From parsed modules to registered options: which `*Opt(...)` calls exist, and in which
//! groups they are registered (`register_opts(LIST, group=G)` calls and the
//! `{group: opts}` values that `list_opts()` functions return), following names through
//! assignments, `+`, `list()`/`itertools.chain()` and imports between the modules read.

use std::collections::{BTreeSet, HashMap};

use super::python::{parse_module, Expr, Stmt};
use super::source::ModuleText;
use super::OptionRead;

/// The option classes of `oslo_config.cfg` whose calls define options of configuration
/// files (`SubCommandOpt` is a command line's sub-command, never in a file).
const OPT_CLASSES: [&str; 15] = [
    "Opt",
    "StrOpt",
    "BoolOpt",
    "IntOpt",
    "FloatOpt",
    "ListOpt",
    "DictOpt",
    "MultiOpt",
    "MultiStrOpt",
    "IPOpt",
    "PortOpt",
    "HostnameOpt",
    "HostAddressOpt",
    "URIOpt",
    "HostDomainOpt",
];

/// How deep names are followed; deeper is a loop (`a = a + b` read twice).
const MAX_DEPTH: usize = 24;

struct Module {
    shown: String,
    /// Each name's last assigned value.
    vars: HashMap<String, Expr>,
    /// Bound name to the dotted name it stands for.
    imports: HashMap<String, String>,
    /// Every statement, with its line and the function it is in (for `return`s).
    statements: Vec<(u32, Stmt, Option<String>)>,
}

/// An option call: its module and its position there.
type Key = (usize, (u32, u32));

struct Reader<'a> {
    modules: Vec<Module>,
    by_name: HashMap<&'a str, usize>,
    warnings: Vec<String>,
}

/// The options the modules define and register, sorted by group and name, and the names of
/// those defined whose group is not known statically.
pub(crate) fn registered_options(
    texts: &[ModuleText],
    warnings: &mut Vec<String>,
) -> (Vec<OptionRead>, BTreeSet<String>) {
    let modules = texts.iter().map(parse).collect();
    let by_name = texts
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut reader = Reader {
        modules,
        by_name,
        warnings: Vec::new(),
    };
    let groups = reader.registrations();
    let mut unplaced = BTreeSet::new();
    let options = reader.options(&groups, &mut unplaced);
    warnings.append(&mut reader.warnings);
    (options, unplaced)
}

fn parse(text: &ModuleText) -> Module {
    let mut vars = HashMap::new();
    let mut imports = HashMap::new();
    let mut statements = Vec::new();
    let mut function = None;
    for (line, stmt) in parse_module(&text.text, &text.name, text.is_package) {
        match &stmt {
            Stmt::Assign(targets, value) => {
                for target in targets {
                    vars.insert(target.clone(), value.clone());
                }
            }
            Stmt::Import(names) | Stmt::FromImport(names) => {
                for (bound, target) in names {
                    imports.insert(bound.clone(), target.clone());
                }
            }
            Stmt::Def(name) => function = Some(name.clone()),
            Stmt::Return(_) | Stmt::Expr(_) => {}
        }
        statements.push((line, stmt, function.clone()));
    }
    Module {
        shown: text.shown.clone(),
        vars,
        imports,
        statements,
    }
}

fn is_opt_call(expr: &Expr) -> bool {
    expr.call_name().is_some_and(|name| {
        let last = name.rsplit('.').next().unwrap_or(name);
        OPT_CLASSES.contains(&last)
    })
}

fn last_part(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

impl Reader<'_> {
    fn warn(&mut self, module: usize, line: u32, message: impl std::fmt::Display) {
        let shown = &self.modules[module].shown;
        self.warnings.push(format!("{shown}:{line}: {message}"));
    }

    /// The value a dotted name stands for, and the module it is read in: a variable of
    /// `module`, or of another module reached through an import.
    fn lookup(&self, module: usize, name: &str) -> Option<(usize, Expr)> {
        if let Some(value) = self.modules[module].vars.get(name) {
            return Some((module, value.clone()));
        }
        let (first, rest) = name.split_once('.').map_or((name, ""), |(a, b)| (a, b));
        let imported = self.modules[module].imports.get(first)?;
        let full = if rest.is_empty() {
            imported.clone()
        } else {
            format!("{imported}.{rest}")
        };
        // The longest module prefix of the full name; the rest is a variable there.
        let mut split = full.len();
        while let Some(dot) = full[..split].rfind('.') {
            if let Some(&other) = self.by_name.get(&full[..dot]) {
                let var = &full[dot + 1..];
                return self.modules[other]
                    .vars
                    .get(var)
                    .map(|value| (other, value.clone()));
            }
            split = dot;
        }
        None
    }

    /// The option calls a value holds; the lines of parts that cannot be read statically
    /// (`ks_loading.get_session_conf_options()`) go to `unread`.
    fn opts(&self, module: usize, expr: &Expr, depth: usize, unread: &mut Vec<u32>) -> Vec<Key> {
        let line = line_of(expr);
        if depth > MAX_DEPTH {
            unread.push(line);
            return Vec::new();
        }
        let mut all = Vec::new();
        match expr {
            Expr::Call { at, .. } if is_opt_call(expr) => all.push((module, *at)),
            Expr::Call { args, kwargs, .. }
                if kwargs.is_empty()
                    && matches!(
                        last_part(expr.call_name().unwrap_or_default()),
                        "list" | "tuple" | "chain" | "deepcopy" | "copy" | "sorted"
                    ) =>
            {
                for arg in args {
                    all.extend(self.opts(module, arg, depth + 1, unread));
                }
            }
            Expr::List(items) => {
                for item in items {
                    all.extend(self.opts(module, item, depth + 1, unread));
                }
            }
            Expr::Add(a, b) => {
                all.extend(self.opts(module, a, depth + 1, unread));
                all.extend(self.opts(module, b, depth + 1, unread));
            }
            Expr::Name(name) => match self.lookup(module, name) {
                Some((other, value)) => all.extend(self.opts(other, &value, depth + 1, unread)),
                None => unread.push(line),
            },
            _ => unread.push(line),
        }
        all
    }

    /// A string a value stands for (a literal, or a name bound to one).
    fn string(&self, module: usize, expr: &Expr, depth: usize) -> Option<String> {
        match expr {
            Expr::Str(text) => Some(text.clone()),
            Expr::Name(name) if depth < MAX_DEPTH => {
                let (other, value) = self.lookup(module, name)?;
                self.string(other, &value, depth + 1)
            }
            _ => None,
        }
    }

    /// The group name a value stands for: a string, an `OptGroup(...)`, its `.name`, or
    /// keystone's `__name__.split('.')[-1]` (the module's last name).
    fn group(&self, module: usize, expr: &Expr, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match expr {
            Expr::Str(text) => Some(text.clone()),
            Expr::Const("None") => Some("DEFAULT".to_owned()),
            Expr::Call { .. } if expr.call_name().map(last_part) == Some("OptGroup") => {
                let name = expr.kwarg("name").or_else(|| expr.arg(0))?;
                self.string(module, name, depth + 1)
            }
            Expr::Subscript(value, index)
                if **index == Expr::Num("-1".to_owned())
                    && value.call_name() == Some("__name__.split") =>
            {
                let shown = &self.modules[module].shown;
                let file = shown.rsplit(['/', '!']).next().unwrap_or(shown);
                Some(file.trim_end_matches(".py").to_owned())
            }
            Expr::Name(name) => {
                if let Some((other, value)) = self.lookup(module, name) {
                    return self.group(other, &value, depth + 1);
                }
                let base = name.strip_suffix(".name")?;
                let (other, value) = self.lookup(module, base)?;
                self.group(other, &value, depth + 1)
            }
            _ => None,
        }
    }

    /// Every (option call, group) that a registration or a `list_opts()` names.
    fn registrations(&mut self) -> HashMap<Key, BTreeSet<String>> {
        let mut groups: HashMap<Key, BTreeSet<String>> = HashMap::new();
        for module in 0..self.modules.len() {
            let statements = std::mem::take(&mut self.modules[module].statements);
            for (line, stmt, function) in &statements {
                match stmt {
                    Stmt::Expr(expr) => self.registration(module, *line, expr, &mut groups),
                    Stmt::Return(value)
                        if function
                            .as_deref()
                            .is_some_and(|f| f.starts_with("list_") && f.ends_with("opts")) =>
                    {
                        self.listed(module, *line, value, &mut groups);
                    }
                    _ => {}
                }
            }
            self.modules[module].statements = statements;
        }
        groups
    }

    /// `X.register_opts(OPTS, group=G)` and its kin.
    fn registration(
        &mut self,
        module: usize,
        line: u32,
        expr: &Expr,
        groups: &mut HashMap<Key, BTreeSet<String>>,
    ) {
        let Some(name) = expr.call_name() else { return };
        let function = last_part(name);
        if !matches!(
            function,
            "register_opts" | "register_opt" | "register_cli_opts" | "register_cli_opt"
        ) {
            return;
        }
        let Some(opts) = expr
            .arg(0)
            .or_else(|| expr.kwarg("opts"))
            .or_else(|| expr.kwarg("opt"))
        else {
            return;
        };
        // A project's own `register_opts(conf)` helper, called with the config object.
        if matches!(opts, Expr::Name(n) if last_part(n).eq_ignore_ascii_case("conf")
            || self.lookup(module, n).is_none())
        {
            return;
        }
        let mut unread = Vec::new();
        let found = self.opts(module, opts, 0, &mut unread);
        if let Some(&at) = unread.first() {
            self.warn(
                module,
                if at == 0 { line } else { at },
                format!("{function}: some of the options it registers cannot be read statically (built at run time)"),
            );
        }
        let group = match expr.kwarg("group").or_else(|| expr.arg(1)) {
            None => Some("DEFAULT".to_owned()),
            Some(g) => self.group(module, g, 0),
        };
        let Some(group) = group else {
            self.warn(
                module,
                line,
                format!("{function}: the group is not known statically (given at run time)"),
            );
            return;
        };
        for key in found {
            groups.entry(key).or_default().insert(group.clone());
        }
    }

    /// A `list_opts()` value: `{group: opts}` or `[(group, opts), ...]`.
    fn listed(
        &mut self,
        module: usize,
        line: u32,
        value: &Expr,
        groups: &mut HashMap<Key, BTreeSet<String>>,
    ) {
        let pairs: Vec<(Expr, Expr)> = match value {
            Expr::Dict(pairs) => pairs.clone(),
            Expr::List(items) => items
                .iter()
                .filter_map(|item| match item {
                    Expr::List(pair) if pair.len() == 2 => Some((pair[0].clone(), pair[1].clone())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if pairs.is_empty() {
            self.warn(
                module,
                line,
                "list_opts returns a value built at run time; its options are read from their registrations only",
            );
            return;
        }
        for (group, opts) in pairs {
            let group = self.group(module, &group, 0);
            let mut unread = Vec::new();
            let found = self.opts(module, &opts, 0, &mut unread);
            match group {
                Some(group) => {
                    for key in found {
                        groups.entry(key).or_default().insert(group.clone());
                    }
                }
                None => unread.push(line),
            }
            if !unread.is_empty() {
                self.warn(
                    module,
                    line,
                    "list_opts: part of an entry cannot be read statically (built at run time)",
                );
            }
        }
    }

    /// Every option call of every module, read, in each group it is registered in.
    fn options(
        &mut self,
        groups: &HashMap<Key, BTreeSet<String>>,
        unplaced: &mut BTreeSet<String>,
    ) -> Vec<OptionRead> {
        let mut out = Vec::new();
        for module in 0..self.modules.len() {
            let statements = std::mem::take(&mut self.modules[module].statements);
            let mut calls = Vec::new();
            for (_, stmt, _) in &statements {
                match stmt {
                    Stmt::Assign(_, e) | Stmt::Expr(e) | Stmt::Return(e) => {
                        e.walk_calls(&mut calls);
                    }
                    _ => {}
                }
            }
            for call in calls {
                let Expr::Call { at, .. } = call else {
                    continue;
                };
                if !is_opt_call(call) {
                    continue;
                }
                let Some(registered) = groups.get(&(module, *at)) else {
                    if let Some(name) = call.arg(0).and_then(|n| self.string(module, n, 0)) {
                        unplaced.insert(name.replace('-', "_"));
                    }
                    self.warn(
                        module,
                        at.0,
                        "an option whose group is not known statically (not registered in the modules read)",
                    );
                    continue;
                };
                if let Some(read) = self.option(module, call) {
                    for group in registered {
                        out.push(read.in_group(group));
                    }
                }
            }
            self.modules[module].statements = statements;
        }
        out.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
        out
    }

    /// One option call read, its group still unset; `None` (with a warning) when its name or
    /// a deprecation cannot be read statically.
    fn option(&mut self, module: usize, call: &Expr) -> Option<OptionRead> {
        let line = line_of(call);
        let Some(name) = call
            .arg(0)
            .or_else(|| call.kwarg("name"))
            .and_then(|n| self.string(module, n, 0))
        else {
            self.warn(module, line, "an option whose name is built at run time");
            return None;
        };
        let dest = name.replace('-', "_");
        let unread = |what: &str| format!("option {name}: {what} cannot be read statically");
        let mut aliases: Vec<(Option<String>, Option<String>)> = Vec::new();
        let deprecated_name = call.kwarg("deprecated_name");
        let deprecated_group = call.kwarg("deprecated_group");
        if deprecated_name.is_some() || deprecated_group.is_some() {
            let alias_name = match deprecated_name {
                None | Some(Expr::Const("None")) => None,
                Some(e) => {
                    let Some(s) = self.string(module, e, 0) else {
                        self.warn(module, line, unread("deprecated_name"));
                        return None;
                    };
                    Some(s)
                }
            };
            let alias_group = match deprecated_group {
                None | Some(Expr::Const("None")) => None,
                Some(e) => {
                    let Some(g) = self.group(module, e, 0) else {
                        self.warn(module, line, unread("deprecated_group"));
                        return None;
                    };
                    Some(g)
                }
            };
            if alias_name.is_some() || alias_group.is_some() {
                aliases.push((alias_group, alias_name));
            }
        }
        if let Some(list) = call.kwarg("deprecated_opts") {
            let Some(more) = self.deprecated_opts(module, list, 0) else {
                self.warn(module, line, unread("deprecated_opts"));
                return None;
            };
            aliases.extend(more);
        }
        let deprecated_for_removal = match call.kwarg("deprecated_for_removal") {
            None | Some(Expr::Const("False")) => false,
            Some(Expr::Const("True")) => true,
            Some(_) => {
                self.warn(module, line, unread("deprecated_for_removal"));
                return None;
            }
        };
        // Without `default=`, oslo.config's default is None.
        let default = match call.kwarg("default") {
            None => Some("<None>".to_owned()),
            Some(d) => self.literal(module, d, 0),
        };
        Some(OptionRead {
            group: String::new(),
            name: dest.replace('-', "_"),
            aliases: aliases
                .into_iter()
                .map(|(g, n)| (g, n.map(|n| n.replace('-', "_"))))
                .collect(),
            deprecated_for_removal,
            default,
            file: self.modules[module].shown.clone(),
            line,
        })
    }

    /// `[cfg.DeprecatedOpt(name, group=G), ...]`: (group, name), each `None` for the
    /// option's own.
    fn deprecated_opts(
        &self,
        module: usize,
        expr: &Expr,
        depth: usize,
    ) -> Option<Vec<(Option<String>, Option<String>)>> {
        match expr {
            Expr::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    if item.call_name().map(last_part) != Some("DeprecatedOpt") {
                        return None;
                    }
                    let name = match item.arg(0).or_else(|| item.kwarg("name")) {
                        None | Some(Expr::Const("None")) => None,
                        Some(e) => Some(self.string(module, e, 0)?),
                    };
                    let group = match item.kwarg("group").or_else(|| item.arg(1)) {
                        None | Some(Expr::Const("None")) => None,
                        Some(e) => Some(self.group(module, e, 0)?),
                    };
                    out.push((group, name));
                }
                Some(out)
            }
            Expr::Add(a, b) => {
                let mut out = self.deprecated_opts(module, a, depth + 1)?;
                out.extend(self.deprecated_opts(module, b, depth + 1)?);
                Some(out)
            }
            Expr::Name(name) if depth < MAX_DEPTH => {
                let (other, value) = self.lookup(module, name)?;
                self.deprecated_opts(other, &value, depth + 1)
            }
            _ => None,
        }
    }

    /// A default written as a literal, as oslo.config's sample files show it: strings as
    /// they are, booleans in lower case, lists joined with commas, `None` as `<None>`.
    fn literal(&self, module: usize, expr: &Expr, depth: usize) -> Option<String> {
        match expr {
            Expr::Str(text) => Some(text.clone()),
            Expr::Num(n) => Some(n.clone()),
            Expr::Const("None") => Some("<None>".to_owned()),
            Expr::Const(b) => Some(b.to_lowercase()),
            Expr::List(items) => {
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| self.literal(module, i, depth + 1))
                    .collect();
                Some(parts?.join(","))
            }
            Expr::Name(name) if depth < MAX_DEPTH => {
                let (other, value) = self.lookup(module, name)?;
                self.literal(other, &value, depth + 1)
            }
            _ => None,
        }
    }
}

fn line_of(expr: &Expr) -> u32 {
    match expr {
        Expr::Call { at, .. } => at.0,
        Expr::Add(a, _) | Expr::Subscript(a, _) | Expr::Attr(a, _) => line_of(a),
        Expr::List(items) => items.first().map_or(0, line_of),
        _ => 0,
    }
}
