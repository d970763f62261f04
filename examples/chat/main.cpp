// The founding document's chat, embedded: clients join and leave rooms, and a chat message is
// broadcast to everyone in its room. Compatible with the page in web/ (`--web DIR` serves it).
//   example_chat [--port N] [--web DIR]      (port 0: any free port; Ctrl-C stops)
#include <cstdio>
#include <cstdlib>
#include <string>

#include <switchboard/switchboard.h>

int main(int argc, char** argv) {
  switchboard::Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") options.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    if (flag == "--web") options.http.web_root = argv[i + 1];
  }
  switchboard::Server io(options);

  io.on_connection([&io](switchboard::Socket& socket) {
    socket.on("join", [&socket](const switchboard::Args& a) { socket.join(a.str(0)); });
    socket.on("leave", [&socket](const switchboard::Args& a) { socket.leave(a.str(0)); });
    socket.on("chat", [&io, &socket](const switchboard::Args& a) {  // {room, text}
      const std::string room = a.str(0, "room");
      const auto text = switchboard::Json::raw(a.field(0, "text").value_or("null"));
      io.to(room).emit("chat", switchboard::json::object(
                                   {{"room", room}, {"text", text}, {"from", socket.id()}}));
    });
  });

  std::printf("listening on port %u\n", static_cast<unsigned>(io.listen()));
  std::fflush(stdout);
  return io.run();
}
