//! A bad EAL argument is an error, not a crash. One test per file: EAL
//! starts once per process.

#[test]
fn bad_eal_argument_is_error() {
    let result = naudit_dpdk::open(&naudit_dpdk::DpdkConfig::new("--no-such-eal-option"));
    let Err(error) = result else { panic!("EAL accepted an unknown option") };
    assert!(matches!(error, naudit_dpdk::DpdkError::EalInit { .. }), "{error}");
    assert!(error.to_string().contains("`--no-such-eal-option`"), "{error}");
}
