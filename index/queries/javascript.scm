; JavaScript tags.

(class_declaration
  name: (identifier) @name) @definition.class

(method_definition
  name: (property_identifier) @name) @definition.method

(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
  name: (identifier) @name) @definition.function

; Top-level const/let/var: functions held in variables, configuration, classes.
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name)) @definition.variable)

(program
  (variable_declaration
    (variable_declarator
      name: (identifier) @name)) @definition.variable)

(program
  (export_statement
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name)) @definition.variable))

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (member_expression
    property: (property_identifier) @name)) @reference.call

(new_expression
  constructor: (identifier) @name) @reference.class
