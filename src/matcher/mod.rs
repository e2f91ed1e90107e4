pub mod ast_grep;
