; Python tags.

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name) @definition.function

; Module-level assignments: constants and aliases other modules import.
(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant))

(call
  function: (identifier) @name) @reference.call

(call
  function: (attribute
    attribute: (identifier) @name)) @reference.call

(argument_list
  (identifier) @name) @reference.identifier
