//! Choosing a burn device by name at run time, with a clear error for backends that were
//! not compiled in.

use burn::tensor::Device;

/// A device name that cannot be used in this build.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The backend exists but its cargo feature was not enabled at build time.
    #[error(
        "the `{backend}` backend was not compiled into this build of seqrec; rebuild with `cargo build --release --features {backend}`"
    )]
    NotCompiled {
        /// The backend's name (also its cargo feature).
        backend: &'static str,
    },
    /// The name is not a known backend.
    #[error("unknown device `{0}`: use ndarray, flex, wgpu, cuda or cuda:N")]
    Unknown(String),
    /// The backend is compiled in but no device could be opened.
    #[error("the `{backend}` device could not be opened: {message}")]
    Unavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why.
        message: String,
    },
}

/// The device names `--device` accepts, each with whether this build has it.
pub fn available_backends() -> Vec<(&'static str, bool)> {
    vec![
        ("ndarray", cfg!(feature = "ndarray")),
        ("flex", cfg!(feature = "flex")),
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
    ]
}

/// The device called `name`: `ndarray`, `flex` (CPU), `wgpu` (any GPU API, or a software
/// Vulkan driver), `cuda` or `cuda:N`.
///
/// ```
/// let device = seqrec::device::parse_device("ndarray").unwrap();
/// assert!(seqrec::device::parse_device("tpu").is_err());
/// ```
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    let (backend, index) = name
        .split_once(':')
        .map_or((name, None), |(b, i)| (b, Some(i)));
    let index: usize = match index {
        None => 0,
        Some(i) => i
            .parse()
            .map_err(|_| DeviceError::Unknown(name.to_string()))?,
    };
    match backend {
        "ndarray" => ndarray(),
        "flex" => flex(),
        "wgpu" => wgpu(),
        "cuda" => cuda(index),
        _ => Err(DeviceError::Unknown(name.to_string())),
    }
}

/// The fastest CPU device compiled in (flex, else ndarray).
pub fn default_device() -> Result<Device, DeviceError> {
    flex().or_else(|_| ndarray())
}

#[allow(deprecated)]
fn ndarray() -> Result<Device, DeviceError> {
    #[cfg(feature = "ndarray")]
    return Ok(Device::ndarray());
    #[cfg(not(feature = "ndarray"))]
    Err(DeviceError::NotCompiled { backend: "ndarray" })
}

fn flex() -> Result<Device, DeviceError> {
    #[cfg(feature = "flex")]
    return Ok(Device::flex());
    #[cfg(not(feature = "flex"))]
    Err(DeviceError::NotCompiled { backend: "flex" })
}

fn wgpu() -> Result<Device, DeviceError> {
    #[cfg(feature = "wgpu")]
    return Device::wgpu_options()
        .init()
        .map_err(|e| DeviceError::Unavailable {
            backend: "wgpu",
            message: e.to_string(),
        });
    #[cfg(not(feature = "wgpu"))]
    Err(DeviceError::NotCompiled { backend: "wgpu" })
}

fn cuda(index: usize) -> Result<Device, DeviceError> {
    #[cfg(feature = "cuda")]
    return Ok(Device::cuda(index));
    #[cfg(not(feature = "cuda"))]
    {
        let _ = index;
        Err(DeviceError::NotCompiled { backend: "cuda" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_backends_are_clear_errors() {
        assert!(matches!(parse_device("tpu"), Err(DeviceError::Unknown(_))));
        assert!(matches!(
            parse_device("cuda:x"),
            Err(DeviceError::Unknown(_))
        ));
        for (name, compiled) in available_backends() {
            if !compiled {
                let err = parse_device(name).unwrap_err();
                assert!(
                    err.to_string().contains(&format!("--features {name}")),
                    "{err}"
                );
            }
        }
        assert!(parse_device("ndarray").is_ok() || !cfg!(feature = "ndarray"));
    }
}
