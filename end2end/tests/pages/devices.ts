import { ModePage } from './app';

export class DevicesPage extends ModePage {
  readonly path = 'devices';

  get rows() {
    return this.page.getByTestId('devices').locator('tbody tr');
  }

  get current() {
    return this.page.getByTestId('device-current');
  }

  get others() {
    return this.page.getByTestId('device-other');
  }

  async revokeFirstOther() {
    await this.others.first().getByTestId('revoke').click();
  }

  async revokeAllOthers() {
    await this.page.getByTestId('revoke-others').click();
  }

  async logoutEverywhere() {
    await this.page.getByTestId('logout-everywhere').click();
  }
}
