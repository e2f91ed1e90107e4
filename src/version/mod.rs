//! Version parsing, ordering and range checks, one implementation per ecosystem's scheme, and
//! OSV range evaluation in each ecosystem's order.
