//! The images an object would run: a Pod's, or those of the pod template of a workload, from
//! `containers`, `initContainers` and `ephemeralContainers`, each with the JSON pointer of its
//! `image` field (where the mutating webhook pins it).

use serde_json::Value;

use crate::Error;

/// Most containers read from one object: far above any real pod (Kubernetes has no limit, but
/// the object size limit keeps real ones to a few hundred at most).
pub const MAX_CONTAINERS: usize = 1024;

/// Which list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `containers`.
    Containers,
    /// `initContainers`.
    Init,
    /// `ephemeralContainers` (`kubectl debug`).
    Ephemeral,
}

impl Section {
    /// The field name.
    pub fn field(self) -> &'static str {
        match self {
            Section::Containers => "containers",
            Section::Init => "initContainers",
            Section::Ephemeral => "ephemeralContainers",
        }
    }
}

/// One container's image in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSite {
    /// The image as written.
    pub image: String,
    /// The container's name.
    pub container: String,
    /// Its list.
    pub section: Section,
    /// The JSON pointer (RFC 6901) of the `image` field.
    pub pointer: String,
}

/// Where the pod spec of each known kind is, as a JSON pointer; `None` for kinds that run no
/// pods Hallmark knows of.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/spec",
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

fn bad(message: String) -> Error {
    Error::Review(message)
}

/// The images `object` of `kind` would run; `Ok(None)` for a kind that is not a workload.
/// A pod spec that is missing or a container without a string `image` is malformed: the API
/// server would not store it, so it is refused rather than judged as running nothing.
pub fn images(kind: &str, object: &Value) -> Result<Option<Vec<ImageSite>>, Error> {
    let Some(pointer) = pod_spec_pointer(kind) else {
        return Ok(None);
    };
    let spec = object
        .pointer(pointer)
        .filter(|s| s.is_object())
        .ok_or_else(|| bad(format!("{kind} without a pod spec at {pointer}")))?;
    let mut sites = Vec::new();
    for section in [Section::Init, Section::Containers, Section::Ephemeral] {
        let list = match spec.get(section.field()) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(list)) => list,
            Some(_) => return Err(bad(format!("{} is not a list", section.field()))),
        };
        for (i, container) in list.iter().enumerate() {
            if sites.len() >= MAX_CONTAINERS {
                return Err(bad(format!("more than {MAX_CONTAINERS} containers")));
            }
            let name = container
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let image = container
                .get("image")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "{}[{i}] ({}) has no image",
                        section.field(),
                        crate::review::short(name)
                    ))
                })?;
            sites.push(ImageSite {
                image: image.to_owned(),
                container: name.to_owned(),
                section,
                pointer: format!("{pointer}/{}/{i}/image", section.field()),
            });
        }
    }
    Ok(Some(sites))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod() -> Value {
        json!({
            "containers": [{"name": "app", "image": "r.example/app:1"}],
            "initContainers": [{"name": "init", "image": "r.example/init:1"}],
            "ephemeralContainers": [{"name": "dbg", "image": "r.example/dbg:1"}]
        })
    }

    #[test]
    fn every_kind_and_every_container_list() {
        let cases = [
            ("Pod", json!({"spec": pod()}), "/spec"),
            (
                "Deployment",
                json!({"spec": {"template": {"spec": pod()}}}),
                "/spec/template/spec",
            ),
            (
                "CronJob",
                json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod()}}}}}),
                "/spec/jobTemplate/spec/template/spec",
            ),
        ];
        for (kind, object, base) in cases {
            let sites = images(kind, &object).unwrap().unwrap();
            let found: Vec<_> = sites.iter().map(|s| s.image.as_str()).collect();
            assert_eq!(
                found,
                ["r.example/init:1", "r.example/app:1", "r.example/dbg:1"]
            );
            assert_eq!(sites[1].pointer, format!("{base}/containers/0/image"));
            assert_eq!(
                object.pointer(&sites[2].pointer).unwrap(),
                "r.example/dbg:1"
            );
        }
        for kind in [
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "ReplicationController",
        ] {
            let object = json!({"spec": {"template": {"spec": pod()}}});
            assert_eq!(images(kind, &object).unwrap().unwrap().len(), 3);
        }
    }

    #[test]
    fn malformed_specs_are_refused_and_other_kinds_run_nothing() {
        assert!(images("ConfigMap", &json!({})).unwrap().is_none());
        for object in [
            json!({}),
            json!({"spec": {"containers": {}}}),
            json!({"spec": {"containers": [{"name": "x"}]}}),
            json!({"spec": {"containers": [{"name": "x", "image": 7}]}}),
        ] {
            assert_eq!(
                images("Pod", &object).unwrap_err().code(),
                "admission.review"
            );
        }
    }
}
