//! Opening a device that does not exist is an error naming it, on a
//! machine with RDMA devices and on one without.

use naudit_infiniband::{open, IbverbsConfig, IbverbsError, PortName};

#[test]
fn missing_device_is_named() {
    let port: PortName = "naudit_missing0:1".parse().expect("a valid device name");
    let Err(error) = open(&IbverbsConfig::new(port)) else { panic!("opened a device that does not exist") };
    assert!(matches!(error, IbverbsError::DeviceNotFound { .. }), "{error}");
    let message = error.to_string();
    assert!(message.starts_with("RDMA device \"naudit_missing0\" not found; available devices: "), "{message}");

    let machine_devices = std::fs::read_dir("/sys/class/infiniband").map(|entries| entries.count()).unwrap_or(0);
    if machine_devices == 0 {
        assert!(message.contains("available devices: none ("), "{message}");
        assert!(message.contains("ibv_devices"), "{message}");
    }
}
