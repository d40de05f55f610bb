//! Building blocks shared by the pages.

pub mod chart;
pub mod forms;
pub mod inspector;
pub mod layout;
pub mod report;
pub mod require_user;
