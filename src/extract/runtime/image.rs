//! Container image references (`python:3.11-slim`, `ghcr.io/o/app:1@sha256:…`) and the official
//! images that are really runtime pins. Shared by Dockerfile `FROM` lines and `docker://` steps
//! in GitHub Actions.

use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::ManifestFile;

/// An image reference split into the parts that matter for an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository, without Docker Hub's implied `docker.io/` and `library/` (so `node`, not
    /// `docker.io/library/node`); other registries stay in the name (`ghcr.io/o/app`).
    pub name: String,
    /// True when the image lives on Docker Hub (the official images are only trusted there).
    pub docker_hub: bool,
    pub tag: Option<String>,
    /// `sha256:…`, when pinned by digest.
    pub digest: Option<String>,
}

const DOCKER_HUB_HOSTS: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

/// Official Docker Hub images that carry a runtime, with the runtime's inventory name.
const RUNTIME_IMAGES: &[(&str, Ecosystem, &str)] = &[
    ("python", Ecosystem::Python, "python"),
    ("node", Ecosystem::NodeJs, "node"),
    ("ruby", Ecosystem::Ruby, "ruby"),
    ("golang", Ecosystem::GoToolchain, "go"),
    ("rust", Ecosystem::Rust, "rust"),
    ("php", Ecosystem::Php, "php"),
];

impl ImageRef {
    /// Parses `[registry/]path[:tag][@digest]`. `None` for text that is not an image reference
    /// (empty, whitespace, unresolved variables, stray characters).
    pub fn parse(reference: &str) -> Option<ImageRef> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/:@+".contains(c);
        if reference.is_empty() || !reference.chars().all(allowed) {
            return None;
        }
        let (name_and_tag, digest) = match reference.split_once('@') {
            Some((n, d)) if !d.is_empty() && !d.contains('@') => (n, Some(d.to_string())),
            Some(_) => return None,
            None => (reference, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (
                    &name_and_tag[..at],
                    Some(name_and_tag[at + 1..].to_string()),
                )
            }
            None => (name_and_tag, None),
        };
        if tag.as_deref() == Some("") || path.is_empty() || path.split('/').any(str::is_empty) {
            return None;
        }
        let (registry, rest) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, path),
        };
        let docker_hub = registry.is_none_or(|r| DOCKER_HUB_HOSTS.contains(&r));
        let name = match registry {
            Some(r) if !docker_hub => format!("{r}/{rest}"),
            _ => rest.strip_prefix("library/").unwrap_or(rest).to_string(),
        };
        Some(ImageRef {
            name,
            docker_hub,
            tag,
            digest,
        })
    }

    /// The runtime this image pins, when it is one of the official runtime images.
    pub fn runtime(&self) -> Option<(Ecosystem, &'static str)> {
        if !self.docker_hub {
            return None;
        }
        RUNTIME_IMAGES
            .iter()
            .find(|(image, _, _)| *image == self.name)
            .map(|(_, eco, name)| (*eco, *name))
    }
}

/// The leading version of a runtime image tag: `3.11-slim-bookworm` is `3.11`, `18-alpine` is
/// `18`, `lts-alpine` has none.
pub fn leading_version(tag: &str) -> Option<&str> {
    let end = tag
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(tag.len(), |(i, _)| i);
    let version = tag[..end].trim_end_matches('.');
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some(version)
}

/// The inventory entry for an image reference written at `line`.
///
/// Official runtime images become runtime pins (`python:3.11-slim` is Python `3.11`); a tag
/// without a leading version (`lts-alpine`) or a digest-only pin is kept as an unsupported
/// skip. Every other image is a `docker` entry whose version is its tag, or its digest when it
/// has no tag. No tag at all means `latest`, which floats: such entries carry no version and are
/// not skipped.
pub fn image_dependency(file: &ManifestFile<'_>, reference: &str, line: u32) -> Dependency {
    let Some(image) = ImageRef::parse(reference) else {
        return file
            .dep(Ecosystem::Docker, reference, line)
            .direct(true)
            .skip(
                SkipReason::Unsupported,
                format!("`{reference}` is not an image reference"),
            );
    };
    let Some((ecosystem, runtime)) = image.runtime() else {
        let dep = file.dep(Ecosystem::Docker, &image.name, line).direct(true);
        return match image.tag.or(image.digest) {
            Some(version) => dep.locked(version),
            None => dep,
        };
    };
    let dep = file.dep(ecosystem, runtime, line).direct(true);
    match (image.tag.as_deref(), image.digest.as_deref()) {
        (None | Some("latest"), None) => dep,
        (None, Some(_)) => dep.skip(
            SkipReason::Unsupported,
            format!("`{reference}` is pinned by digest only"),
        ),
        (Some(tag), _) => match leading_version(tag) {
            Some(version) => dep.locked(version),
            None => dep.skip(
                SkipReason::Unsupported,
                format!("tag `{tag}` of `{reference}` names no version"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(reference: &str) -> (String, bool, Option<String>, Option<String>) {
        let image = ImageRef::parse(reference).unwrap_or_else(|| panic!("parse {reference}"));
        (image.name, image.docker_hub, image.tag, image.digest)
    }

    #[test]
    fn splits_registry_name_tag_and_digest() {
        assert_eq!(
            parsed("python:3.11-slim"),
            ("python".into(), true, Some("3.11-slim".into()), None)
        );
        assert_eq!(
            parsed("docker.io/library/node:20"),
            ("node".into(), true, Some("20".into()), None)
        );
        assert_eq!(parsed("library/ruby"), ("ruby".into(), true, None, None));
        assert_eq!(
            parsed("bitnami/redis:7.2"),
            ("bitnami/redis".into(), true, Some("7.2".into()), None)
        );
        assert_eq!(
            parsed("localhost:5000/team/app:1.0@sha256:abc"),
            (
                "localhost:5000/team/app".into(),
                false,
                Some("1.0".into()),
                Some("sha256:abc".into())
            )
        );
        assert_eq!(
            parsed("ghcr.io/owner/python:3.12"),
            (
                "ghcr.io/owner/python".into(),
                false,
                Some("3.12".into()),
                None
            )
        );
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for bad in [
            "", "python:", "${BASE}", "a b", "x@", "a//b", "/abs", "x@y@z",
        ] {
            assert_eq!(ImageRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_docker_hub_official_images_are_runtimes() {
        let runtime = |r: &str| ImageRef::parse(r).and_then(|i| i.runtime());
        assert_eq!(runtime("golang:1.22"), Some((Ecosystem::GoToolchain, "go")));
        assert_eq!(
            runtime("docker.io/library/php:8.2-fpm"),
            Some((Ecosystem::Php, "php"))
        );
        assert_eq!(runtime("ghcr.io/x/python:3"), None);
        assert_eq!(runtime("someone/python:3"), None);
        assert_eq!(runtime("pythonista:3"), None);
    }

    #[test]
    fn leading_version_takes_the_numeric_prefix() {
        assert_eq!(leading_version("3.11-slim-bookworm"), Some("3.11"));
        assert_eq!(leading_version("18-alpine"), Some("18"));
        assert_eq!(leading_version("1.75.0"), Some("1.75.0"));
        assert_eq!(leading_version("8.2-fpm"), Some("8.2"));
        assert_eq!(leading_version("3."), Some("3"));
        assert_eq!(leading_version("lts-alpine"), None);
        assert_eq!(leading_version("alpine3.19"), None);
        assert_eq!(leading_version(".5"), None);
    }
}
