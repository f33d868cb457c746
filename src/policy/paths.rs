//! The names one evaluation may resolve: the variables and field paths
//! (`campaign.logo.width`) the rules of a version read, found at load.

use cel::IdedExpr;
use cel::common::ast::{ComprehensionExpr, EntryExpr, Expr};

/// A variable or field path some rule reads: `campaign.logo.width`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ReadPath {
    /// The dotted name the interpreter asks for.
    pub(crate) name: String,
    /// The variable, then the fields.
    pub(crate) segments: Vec<String>,
    /// What the name stands for.
    pub(crate) read: Read,
}

/// What the resolver answers for a path: its value, or (for the names of a
/// fast tree's null tests, see `fast_tree.rs`) whether it is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Read {
    /// The value at the path: `campaign.logo`.
    Value,
    /// `campaign.logo == null`, named `campaign.logo==null`.
    IsNull,
    /// `campaign.logo != null`, named `campaign.logo!=null`.
    NotNull,
}

impl ReadPath {
    /// The path of `segments`, named as the interpreter (or, for a null
    /// test, a fast tree) asks for it.
    pub(crate) fn new(segments: Vec<String>, read: Read) -> ReadPath {
        let mut name = segments.join(".");
        match read {
            Read::Value => {}
            Read::IsNull => name.push_str("==null"),
            Read::NotNull => name.push_str("!=null"),
        }
        ReadPath {
            name,
            segments,
            read,
        }
    }

    /// The paths `expr` reads: each identifier and each chain of field
    /// selections on one, with its prefixes (of `has(a.b)`, `a`).
    pub(crate) fn collect(expr: &IdedExpr, out: &mut Vec<ReadPath>) {
        if let Some(segments) = segments(expr) {
            // every prefix too: where the interpreter cannot have the whole
            // path, it asks for the shorter names and selects the rest itself
            // `params` is served whole; `@result` and the like are the
            // interpreter's own comprehension variables
            if segments
                .first()
                .is_some_and(|root| root != "params" && !root.starts_with('@'))
            {
                for len in 1..=segments.len() {
                    let segments = segments.get(..len).unwrap_or_default().to_vec();
                    out.push(ReadPath::new(segments, Read::Value));
                }
            }
            return;
        }
        match &expr.expr {
            Expr::Select(select) => ReadPath::collect(&select.operand, out),
            Expr::Call(call) => {
                call.target.iter().for_each(|t| ReadPath::collect(t, out));
                call.args.iter().for_each(|a| ReadPath::collect(a, out));
            }
            Expr::Comprehension(c) => {
                for e in comprehension_parts(c) {
                    ReadPath::collect(e, out);
                }
            }
            Expr::List(list) => list.elements.iter().for_each(|e| ReadPath::collect(e, out)),
            Expr::Map(map) => map.entries.iter().for_each(|e| collect_entry(&e.expr, out)),
            Expr::Struct(s) => s.entries.iter().for_each(|e| collect_entry(&e.expr, out)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

fn collect_entry(entry: &EntryExpr, out: &mut Vec<ReadPath>) {
    match entry {
        EntryExpr::StructField(field) => ReadPath::collect(&field.value, out),
        EntryExpr::MapEntry(e) => {
            ReadPath::collect(&e.key, out);
            ReadPath::collect(&e.value, out);
        }
    }
}

/// `a.b.c` as `[a, b, c]` when `expr` is an identifier or field selections
/// on one.
pub(crate) fn segments(expr: &IdedExpr) -> Option<Vec<String>> {
    match &expr.expr {
        Expr::Ident(name) => Some(vec![name.clone()]),
        Expr::Select(select) if !select.test => {
            let mut segments = segments(&select.operand)?;
            segments.push(select.field.clone());
            Some(segments)
        }
        _ => None,
    }
}

/// The paths of a version, looked up by name without hashing: grouped by
/// length, so that a lookup compares the few names of its length, most of
/// them told apart by their last byte (the interpreter asks for every
/// prefix of a qualified name, and for names no rule reads).
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Sorted by length, then name, without duplicates.
    paths: Vec<ReadPath>,
    /// For each length, the range of `paths` of that length.
    by_len: Vec<(usize, usize)>,
    /// For each path, where its fact is found from (see [`Link`]).
    links: Vec<Link>,
}

/// Where the fact at a path is found: so that an evaluation looks each
/// name up once in the facts' maps, the rest of a path from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// A variable, in the facts.
    Root,
    /// The last field of the value at the path of this index.
    Field(usize),
    /// The value at the path of this index (a null test's).
    Same(usize),
}

impl Names {
    pub(crate) fn new(mut paths: Vec<ReadPath>) -> Names {
        // every value a link leads to: each prefix of each path
        let prefixes: Vec<ReadPath> = paths
            .iter()
            .flat_map(|p| {
                (1..=p.segments.len()).map(|len| {
                    let segments = p.segments.get(..len).unwrap_or_default().to_vec();
                    ReadPath::new(segments, Read::Value)
                })
            })
            .collect();
        paths.extend(prefixes);
        paths.sort_by(|a, b| (a.name.len(), &a.name).cmp(&(b.name.len(), &b.name)));
        paths.dedup();
        let longest = paths.last().map_or(0, |p| p.name.len());
        let by_len = (0..=longest)
            .map(|len| {
                let start = paths.partition_point(|p| p.name.len() < len);
                let end = paths.partition_point(|p| p.name.len() <= len);
                (start, end)
            })
            .collect();
        let mut names = Names {
            paths,
            by_len,
            links: Vec::new(),
        };
        names.links = names.paths.iter().map(|p| names.link(p)).collect();
        names
    }

    fn link(&self, path: &ReadPath) -> Link {
        let value = |segments: &[String]| {
            self.find(&segments.join("."))
                .filter(|(_, p)| p.read == Read::Value)
                .map(|(i, _)| i)
        };
        let (found, link): (_, fn(usize) -> Link) = match path.read {
            Read::IsNull | Read::NotNull => (value(&path.segments), Link::Same),
            Read::Value => match path.segments.split_last() {
                Some((_, parent)) if !parent.is_empty() => (value(parent), Link::Field),
                _ => return Link::Root,
            },
        };
        // every prefix was added as a value path: always found
        found.map_or(Link::Root, link)
    }

    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    /// The path of `index` and where its fact is found.
    pub(crate) fn get(&self, index: usize) -> Option<(&ReadPath, Link)> {
        Some((self.paths.get(index)?, *self.links.get(index)?))
    }

    /// The index and path named `name`.
    pub(crate) fn find(&self, name: &str) -> Option<(usize, &ReadPath)> {
        let &(start, end) = self.by_len.get(name.len())?;
        let last = name.as_bytes().last();
        (start..end).find_map(|i| {
            let path = self.paths.get(i)?;
            (path.name.as_bytes().last() == last && path.name == name).then_some((i, path))
        })
    }

    /// Every name, shortest first (for tests).
    #[cfg(test)]
    pub(crate) fn names(&self) -> Vec<&str> {
        self.paths.iter().map(|p| p.name.as_str()).collect()
    }
}

#[cfg(test)]
#[path = "paths_test.rs"]
pub(crate) mod tests;

/// The sub-expressions of a comprehension, in evaluation order.
pub(crate) fn comprehension_parts(c: &ComprehensionExpr) -> [&IdedExpr; 5] {
    [
        &c.iter_range,
        &c.accu_init,
        &c.loop_cond,
        &c.loop_step,
        &c.result,
    ]
}
