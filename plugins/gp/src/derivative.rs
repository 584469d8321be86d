//! Derivative GP (placeholder).
