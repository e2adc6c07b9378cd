//! `--config FILE` of `train` and `ablation`: a TOML or JSON file holding (part of) the serde
//! form of the run's configuration (docs/configuration.md).
//!
//! The file's values are laid over the configuration the command builds from its flags and
//! the data (so that keys left out keep the command's defaults); the flags given on the
//! command line are applied again afterwards by the caller, so they win over the file.

use std::path::Path;

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::CliError;

/// For each named field: when the flag of the same name was given on the command line, copy
/// the field from `flags` to `config` (`copy_given!(given, config, flags; dim, blocks)`).
/// Flags whose field has another name, or that set more than one field, are written out.
macro_rules! copy_given {
    ($given:expr, $config:expr, $flags:expr; $($field:ident),+ $(,)?) => {
        $(
            if $given.has(stringify!($field)) {
                $config.$field = $flags.$field;
            }
        )+
    };
}
pub(crate) use copy_given;

/// Which flags the user typed (not defaults), so that only those override a config file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given<'a>(Option<&'a ArgMatches>);

impl<'a> Given<'a> {
    /// The flags of `matches` (a subcommand's).
    pub fn new(matches: &'a ArgMatches) -> Self {
        Self(Some(matches))
    }

    /// Whether the argument `id` (the field's name) was given on the command line.
    pub fn has(&self, id: &str) -> bool {
        self.0.is_some_and(|m| {
            debug_assert!(m.try_contains_id(id).is_ok(), "no argument `{id}`");
            m.try_contains_id(id).unwrap_or(false)
                && m.value_source(id) == Some(ValueSource::CommandLine)
        })
    }
}

/// How a command's configuration looks in a file.
pub struct Shape {
    /// The command, for messages ("train", "ablation").
    pub command: &'static str,
    /// Key of a whole output file that holds the configuration (`config.json`'s `training`,
    /// `run.json`'s `config`): when the file's top level has it, its value is the
    /// configuration.
    pub wrapper: &'static str,
    /// Dotted paths of the tables merged key by key; every other key replaces its value
    /// whole (enums such as `loss` or `objective` are given whole).
    pub tables: &'static [&'static str],
    /// Keys the configuration accepts but does not write when they hold their default.
    pub unwritten: &'static [&'static str],
}

/// Reads `path` (`.toml` or `.json`) as a JSON value, with the parser's line and column in
/// its errors.
fn read_value(path: &Path) -> Result<Value, CliError> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {name}: {e}"))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => serde_json::from_str(&text)
            .map_err(|e| format!("config file {name} is not valid JSON: {e}").into()),
        Some("toml") => {
            let table: toml::Table = toml::from_str(&text).map_err(|e| {
                format!(
                    "config file {name} is not valid TOML: {}",
                    e.to_string().trim_end()
                )
            })?;
            Ok(serde_json::to_value(table)?)
        }
        _ => Err(format!("config file {name}: unknown extension (expected .toml or .json)").into()),
    }
}

/// Lays `file` over `base`, merging the objects at `tables` key by key.
fn merge(base: &mut Map<String, Value>, file: Map<String, Value>, path: &str, tables: &[&str]) {
    for (key, value) in file {
        let dotted = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(value))
                if tables.contains(&dotted.as_str()) =>
            {
                merge(inner, value, &dotted, tables)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The first key of `file` that `known` (the serde form of the configuration read) lacks,
/// with the keys it has at that level.
fn unknown_key(
    file: &Map<String, Value>,
    known: &Map<String, Value>,
    path: &str,
    unwritten: &[&str],
) -> Option<(String, Vec<String>)> {
    for (key, value) in file {
        let dotted = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match known.get(key) {
            None if unwritten.contains(&dotted.as_str()) => {}
            None => {
                let mut keys: Vec<String> = known.keys().cloned().collect();
                if path.is_empty() {
                    keys.extend(
                        unwritten
                            .iter()
                            .filter(|u| !u.contains('.'))
                            .map(|u| u.to_string()),
                    );
                }
                keys.sort();
                return Some((dotted, keys));
            }
            Some(Value::Object(inner)) => {
                if let Value::Object(value) = value
                    && let Some(found) = unknown_key(value, inner, &dotted, unwritten)
                {
                    return Some(found);
                }
            }
            Some(_) => {}
        }
    }
    None
}

/// Reads the configuration in `path` over `base` (the configuration the command would run
/// without the file). Errors name the file and the field (or the line and column of a
/// syntax error).
pub fn load<T: Serialize + DeserializeOwned>(
    path: &Path,
    base: &T,
    shape: &Shape,
) -> Result<T, CliError> {
    let name = path.display();
    let mut file = match read_value(path)? {
        Value::Object(map) => map,
        other => {
            return Err(format!(
                "config file {name}: expected a table of settings, found {}",
                kind(&other)
            )
            .into());
        }
    };
    if let Some(inner) = file.remove(shape.wrapper) {
        file = match inner {
            Value::Object(map) => map,
            Value::Null => {
                return Err(format!(
                    "config file {name}: `{}` is empty (no {} configuration to read)",
                    shape.wrapper, shape.command
                )
                .into());
            }
            other => {
                return Err(format!(
                    "config file {name}: `{}` must be a table of settings, found {}",
                    shape.wrapper,
                    kind(&other)
                )
                .into());
            }
        };
    }
    let Value::Object(base) = serde_json::to_value(base)? else {
        return Err(format!("the {} configuration is not a table", shape.command).into());
    };
    let mut merged = base.clone();
    merge(&mut merged, file.clone(), "", shape.tables);
    let config: T = serde_path_to_error::deserialize(Value::Object(merged)).map_err(|e| {
        let mut field = e.path().to_string();
        if field == "." {
            // A key of a group flattened into the table (e.g. `budget` of the ablation's
            // schedule): serde reports no path there, so find the key that fails alone.
            field = failing_key::<T>(&base, &file, shape.tables).unwrap_or(field);
        }
        format!(
            "config file {name}: field `{field}`: {}",
            e.into_inner().to_string().trim_end()
        )
    })?;
    let Value::Object(known) = serde_json::to_value(&config)? else {
        return Err(format!("the {} configuration is not a table", shape.command).into());
    };
    if let Some((key, keys)) = unknown_key(&file, &known, "", shape.unwritten) {
        return Err(format!(
            "config file {name}: unknown field `{key}` (not a setting of `seqrec {}`; the \
             settings here are: {})",
            shape.command,
            keys.join(", ")
        )
        .into());
    }
    Ok(config)
}

/// The first top-level key of `file` that, laid alone over `base`, does not deserialize.
fn failing_key<T: DeserializeOwned>(
    base: &Map<String, Value>,
    file: &Map<String, Value>,
    tables: &[&str],
) -> Option<String> {
    file.iter().find_map(|(key, value)| {
        let mut alone = base.clone();
        let single = Map::from_iter([(key.clone(), value.clone())]);
        merge(&mut alone, single, "", tables);
        serde_json::from_value::<T>(Value::Object(alone))
            .is_err()
            .then(|| key.clone())
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

/// A note on stderr: the config file's value of a data-derived setting replaced by the
/// data's.
pub fn note_replaced(
    path: &Path,
    field: &str,
    file: impl std::fmt::Display,
    data: impl std::fmt::Display,
) {
    eprintln!(
        "config file {}: {field} {file} replaced by the data's {data}",
        path.display()
    );
}

/// The TOML example of `docs/configuration.md` for `seqrec COMMAND` (the block whose first
/// line is `# seqrec COMMAND ...`).
#[cfg(test)]
pub fn doc_example(command: &str) -> String {
    let doc = include_str!("../../../../docs/configuration.md");
    let marker = format!("# seqrec {command} ");
    doc.split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.starts_with(&marker))
        .unwrap_or_else(|| panic!("no example for {command} in docs/configuration.md"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Inner {
        a: usize,
        b: Option<f64>,
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Outer {
        inner: Inner,
        whole: Inner,
        name: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        flag: bool,
    }

    const SHAPE: Shape = Shape {
        command: "test",
        wrapper: "config",
        tables: &["inner"],
        unwritten: &["flag"],
    };

    fn base() -> Outer {
        Outer {
            inner: Inner { a: 1, b: Some(2.0) },
            whole: Inner { a: 3, b: Some(4.0) },
            name: "base".into(),
            flag: false,
        }
    }

    fn file(ext: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("run.{ext}"));
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn tables_merge_key_by_key_and_other_values_are_replaced_whole() {
        let (_dir, path) = file(
            "toml",
            "name = \"file\"\nflag = true\n[inner]\na = 7\n[whole]\na = 8\n",
        );
        let config = load(&path, &base(), &SHAPE).unwrap();
        assert_eq!(config.inner, Inner { a: 7, b: Some(2.0) });
        assert_eq!(config.whole, Inner { a: 8, b: None });
        assert_eq!(config.name, "file");
        assert!(config.flag);
        // The same as JSON, wrapped as in an output file.
        let (_dir, path) = file("json", r#"{"config": {"inner": {"b": null}}, "other": 1}"#);
        let config = load(&path, &base(), &SHAPE).unwrap();
        assert_eq!(config.inner, Inner { a: 1, b: None });
    }

    #[test]
    fn unknown_fields_wrong_types_and_bad_syntax_name_the_file_and_where() {
        let (_dir, path) = file("toml", "[inner]\nc = 1\n");
        let error = load(&path, &base(), &SHAPE).unwrap_err().to_string();
        assert!(
            error.contains("run.toml") && error.contains("unknown field `inner.c`"),
            "{error}"
        );
        assert!(error.contains("a, b"), "{error}");
        let (_dir, path) = file("json", r#"{"whole": {"a": "x"}}"#);
        let error = load(&path, &base(), &SHAPE).unwrap_err().to_string();
        assert!(
            error.contains("run.json") && error.contains("`whole.a`"),
            "{error}"
        );
        let (_dir, path) = file("toml", "name = \n");
        let error = load(&path, &base(), &SHAPE).unwrap_err().to_string();
        assert!(
            error.contains("run.toml") && error.contains("line 1"),
            "{error}"
        );
        let (_dir, path) = file("json", "{\n\"name\": }");
        let error = load(&path, &base(), &SHAPE).unwrap_err().to_string();
        assert!(
            error.contains("run.json") && error.contains("line 2"),
            "{error}"
        );
        let (_dir, path) = file("yaml", "name: x");
        let error = load(&path, &base(), &SHAPE).unwrap_err().to_string();
        assert!(
            error.contains("run.yaml") && error.contains(".toml or .json"),
            "{error}"
        );
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Group {
        count: usize,
        rate: f64,
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Flat {
        name: String,
        #[serde(flatten)]
        group: Group,
    }

    /// serde gives no path inside a flattened group: the key that fails is found instead.
    #[test]
    fn a_wrong_value_in_a_flattened_group_is_named() {
        let base = Flat {
            name: "base".into(),
            group: Group {
                count: 1,
                rate: 0.5,
            },
        };
        let shape = Shape {
            tables: &[],
            unwritten: &[],
            ..SHAPE
        };
        let (_dir, path) = file("toml", "name = \"file\"\nrate = 0.25\ncount = \"many\"\n");
        let error = load(&path, &base, &shape).unwrap_err().to_string();
        assert!(
            error.contains("run.toml") && error.contains("field `count`"),
            "{error}"
        );
        let (_dir, path) = file("toml", "rate = 0.25\ncount = 3\n");
        let read = load(&path, &base, &shape).unwrap();
        assert_eq!(
            read.group,
            Group {
                count: 3,
                rate: 0.25
            }
        );
        assert_eq!(read.name, "base");
    }
}
