# The chat demo page, assembled in the build tree: ${CMAKE_BINARY_DIR}/web/ = the source web/
# folder + vendor/socket.io.min.js(.map), the official socket.io-client browser bundle taken from
# node_modules (`npm ci` in the source tree; package.json pins socket.io-client). No CDN, and
# nothing is written into the source tree. Serve it with `switchboard serve --web-root <build>/web`.
# See docs/web.md.

set(SB_SOCKETIO_CLIENT_DIST "${PROJECT_SOURCE_DIR}/node_modules/socket.io-client/dist"
    CACHE PATH "Directory holding socket.io-client's browser bundle (socket.io.min.js)")

set(_sb_web_src "${PROJECT_SOURCE_DIR}/web")
set(_sb_web_out "${CMAKE_BINARY_DIR}/web")
set(_sb_web_outputs)

# Every file under web/ (re-globbed at build time when files are added or removed).
file(GLOB_RECURSE _sb_web_files CONFIGURE_DEPENDS RELATIVE "${_sb_web_src}" "${_sb_web_src}/*")
foreach(_f IN LISTS _sb_web_files)
  if(_f MATCHES "^vendor/")  # vendor/ belongs to the build; never take it from the source tree
    continue()
  endif()
  add_custom_command(
    OUTPUT "${_sb_web_out}/${_f}"
    COMMAND ${CMAKE_COMMAND} -E copy_if_different "${_sb_web_src}/${_f}" "${_sb_web_out}/${_f}"
    DEPENDS "${_sb_web_src}/${_f}"
    COMMENT "web: ${_f}"
    VERBATIM)
  list(APPEND _sb_web_outputs "${_sb_web_out}/${_f}")
endforeach()

set(_sb_bundle "${SB_SOCKETIO_CLIENT_DIST}/socket.io.min.js")
if(EXISTS "${_sb_bundle}")
  foreach(_f socket.io.min.js socket.io.min.js.map)
    if(EXISTS "${SB_SOCKETIO_CLIENT_DIST}/${_f}")
      add_custom_command(
        OUTPUT "${_sb_web_out}/vendor/${_f}"
        COMMAND ${CMAKE_COMMAND} -E copy_if_different "${SB_SOCKETIO_CLIENT_DIST}/${_f}"
                "${_sb_web_out}/vendor/${_f}"
        DEPENDS "${SB_SOCKETIO_CLIENT_DIST}/${_f}"
        COMMENT "web: vendor/${_f} (socket.io-client from node_modules)"
        VERBATIM)
      list(APPEND _sb_web_outputs "${_sb_web_out}/vendor/${_f}")
    endif()
  endforeach()
  file(READ "${SB_SOCKETIO_CLIENT_DIST}/../package.json" _sb_pkg LIMIT 4096)
  string(REGEX MATCH "\"version\": *\"([^\"]+)\"" _ "${_sb_pkg}")
  message(STATUS "web: socket.io-client ${CMAKE_MATCH_1} bundle -> ${_sb_web_out}/vendor/")
else()
  message(WARNING
    "web: ${_sb_bundle} not found, so the chat page in ${_sb_web_out} has no Socket.IO client "
    "and will show an error instead of chatting. Run `npm ci` in ${PROJECT_SOURCE_DIR} and "
    "re-run cmake (or set SB_SOCKETIO_CLIENT_DIST to a socket.io-client dist/ directory).")
endif()

add_custom_target(sb_web ALL DEPENDS ${_sb_web_outputs})
# `ninja switchboard` alone also assembles the page the binary serves.
if(TARGET switchboard)
  add_dependencies(switchboard sb_web)
endif()
