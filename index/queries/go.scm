; Go tags: what a completion elsewhere may need to know by name.
; Captures: @name is the symbol, @definition.KIND / @reference.KIND the node.

(function_declaration
  name: (identifier) @name) @definition.function

(method_declaration
  name: (field_identifier) @name) @definition.method

(type_spec
  name: (type_identifier) @name) @definition.type

(type_alias
  name: (type_identifier) @name) @definition.type

; Package-level constants and variables only: locals are in the canvas already.
(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name) @definition.constant))

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name) @definition.variable))

(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name) @definition.variable)))

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (selector_expression
    field: (field_identifier) @name)) @reference.call

(composite_literal
  type: (type_identifier) @name) @reference.type

(qualified_type
  name: (type_identifier) @name) @reference.type

(parameter_declaration
  type: (type_identifier) @name) @reference.type

; Interface methods: a call through an interface lands here.
(method_elem
  name: (field_identifier) @name) @definition.method
