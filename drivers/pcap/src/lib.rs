//! Capture-file driver.
