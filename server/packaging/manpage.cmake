# Writes a man page from a program's --help (and, for a program with commands, each
# COMMAND --help), so the page never disagrees with the binary it ships with.
#   cmake -DBIN=path -DNAME=name -DSUMMARY=text -DVERSION=v -DCOMMANDS="a;b"
#         -DPLUGIN_SUBDIR=lib/linepool/plugins -DOUT=file.1 -P manpage.cmake
function(help_text out)
  execute_process(COMMAND ${BIN} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} ${ARGN} --help failed (${rc}): ${err}")
  endif()
  # The build tree's plugin folder is not the installed one: FILES says where they are.
  string(REGEX REPLACE "Plugin directories:[^\n]*\n?" "" text "${text}")
  # roff: a backslash is \e; a line starting with '.' or a quote would be a request.
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" text "\n${text}")
  string(REGEX REPLACE "^\n" "" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

string(TOUPPER "${NAME}" title)
help_text(main)
set(page ".TH ${title} 1 \"\" \"linepool ${VERSION}\" \"User Commands\"
.SH NAME
${NAME} \\- ${SUMMARY}
.SH DESCRIPTION
The text below is the program's own \\fB--help\\fR.
.PP
.nf
${main}.fi
")
foreach(cmd ${COMMANDS})
  help_text(sub ${cmd})
  string(TOUPPER "${cmd}" up)
  string(APPEND page ".SH COMMAND ${up}\n.nf\n${sub}.fi\n")
endforeach()
if(PLUGIN_SUBDIR)
  string(APPEND page ".SH FILES\n.TP\n\\fIP\\fR/${PLUGIN_SUBDIR}\nthe plugins of an installation \
at prefix \\fIP\\fR (the server is \\fIP\\fR/bin/linepool-server): /usr/${PLUGIN_SUBDIR} for \
the Debian package. \\fB--plugin-dir\\fR replaces it.\n")
endif()
string(APPEND page ".SH SEE ALSO\n\\fBlinepool-server\\fR(1), \\fBlinepool-client\\fR(1)\n")
file(WRITE ${OUT} "${page}")
