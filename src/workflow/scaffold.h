// `lakeflow new`: a connector scaffolded from templates/ (in tree under sources/NAME, or a
// standalone plugin project), its DESIGN.md carrying the development checklist (checklist.h).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace lakeflow::workflow {

struct NewArgs {
  std::string name;                 // [a-z][a-z0-9_]*
  std::vector<std::string> tables;  // optional, each [a-z][a-z0-9_]*
  std::string root;                 // empty: workflow_root("")
  std::string out_of_tree;          // a directory: scaffold a standalone project there
};

// Writes sources/NAME/ from ROOT/templates/connector/, replacing {{name}}, {{Name}},
// {{tables_cpp}}, {{tables_md}} and {{checklist}} (DESIGN.md's Development Progress, from the
// checklist) in file names and contents, and configs/dev_config.json as `{}`; prints the files
// written and what to do next. With `out_of_tree`, writes a standalone plugin project to that
// directory instead: the same files, with templates/out-of-tree/ laid over them (a CMakeLists.txt
// using the installed SDK), from the templates installed beside the `lakeflow` executable
// (<prefix>/share/lakeflow) or else those of the repository.
// Throws ConfigError for a bad name, an existing connector or directory, or missing templates;
// nothing is written then.
void new_connector(const NewArgs& args, std::ostream& out);

}  // namespace lakeflow::workflow
